// The function file: Office needs it to initialise; the add-in has no commands of its own yet.
window.Office.onReady(() => {});
