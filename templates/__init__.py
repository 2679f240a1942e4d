"""Conversation templates as data: agendas, question banks and the checklist of agreements.

Each template is one YAML file, checked against ``schema.json`` when it is loaded. The built-in
files live in ``data/``; an organisation adds its own by naming folders in its configuration
(`load_templates(extra_dirs)`). A template in a later folder replaces a built-in one with the same
kind and key, whole; two files with the same kind and key in one folder are an error.

Every text holds Dutch and English (``{nl: ..., en: ...}``). A lookup in one language falls back
to the other only where that text has no translation, and the result lists those fields in
`fallback`, so a screen can say so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import yaml

from cadence.conversation import Agenda, Theme
from cadence.errors import CadenceError, TemplateError
from cadence.recurrence import language

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

__all__ = [
    "DEFAULT_AGENDA",
    "DEFAULT_CHECKLIST",
    "DEFAULT_QUESTIONS",
    "AgendaTemplate",
    "Checklist",
    "ChecklistItem",
    "Kind",
    "Question",
    "QuestionBank",
    "QuestionGroup",
    "Scheme",
    "TemplateSet",
    "ThemeTemplate",
    "load_templates",
    "schema",
]

Kind = Literal["agenda", "questions", "checklist", "schemes"]
"""The kinds of template file."""

DEFAULT_AGENDA: Final = "three_themes"
"""The agenda a new series starts with."""

DEFAULT_QUESTIONS: Final = "feedback"
"""The built-in question bank."""

DEFAULT_CHECKLIST: Final = "agreements"
"""The built-in checklist of agreements."""

LANGUAGES: Final = ("nl", "en")

_HERE = Path(__file__).resolve().parent
_DATA = _HERE / "data"
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (several times faster), else Python's."""
_SCHEMA = _HERE / "schema.json"
_SUFFIXES = (".yaml", ".yml")
_MAX_FILES = 500
_MAX_BYTES = 1_000_000

_FOLLOW_UP: Final = {"nl": "Opvolging van vorige keer", "en": "Follow-up from last time"}


# -- what a lookup returns (one language) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThemeTemplate:
    """One theme of an agenda template: key, title, a hint and guiding questions."""

    key: str
    title: str
    hint: str = ""
    prompts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scheme:
    """A career, leave or development scheme the organisation offers, in one language.

    Suggested in a conversation in one of `months` (any month when empty) once the employee has
    worked `min_years` (None: whatever their years of service).
    """

    key: str
    title: str
    reason: str
    months: tuple[int, ...] = ()
    min_years: int | None = None


@dataclass(frozen=True, slots=True)
class AgendaTemplate:
    """An agenda template in one language.

    `follow_up` is the theme carried-over actions go under. `fallback` lists the fields whose text
    came from the other language because this one has no translation.
    """

    key: str
    locale: str
    title: str
    description: str
    themes: tuple[ThemeTemplate, ...]
    follow_up: Theme
    fallback: tuple[str, ...] = ()
    reflection: tuple[str, ...] = ()
    """Questions guiding the reflection: the template's own, else its themes' prompts."""
    schemes: tuple[Scheme, ...] = ()
    """The organisation's schemes this template lists (suggested when they matter)."""

    def as_themes(self) -> tuple[Theme, ...]:
        """The themes as the domain's `Theme` values, for a new agenda or carry-over."""
        return tuple(Theme(t.key, t.title) for t in self.themes)


@dataclass(frozen=True, slots=True)
class Question:
    """An open question."""

    key: str
    text: str


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Questions for feedback or feedforward in one direction (giver -> receiver).

    The questions are the ones the receiver asks the giver.
    """

    key: str
    mode: Literal["feedback", "feedforward"]
    direction: Literal["employee_to_manager", "manager_to_employee", "colleague_to_employee"]
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class QuestionBank:
    """A question bank in one language; `fallback` as for `AgendaTemplate`."""

    key: str
    locale: str
    title: str
    description: str
    groups: tuple[QuestionGroup, ...]
    fallback: tuple[str, ...] = ()

    def group(
        self,
        mode: Literal["feedback", "feedforward"],
        direction: Literal["employee_to_manager", "manager_to_employee", "colleague_to_employee"],
    ) -> tuple[QuestionGroup, ...]:
        """The groups of one mode and direction."""
        return tuple(g for g in self.groups if g.mode == mode and g.direction == direction)


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One point of the checklist of agreements: key, title and a short explanation."""

    key: str
    title: str
    explanation: str


@dataclass(frozen=True, slots=True)
class Checklist:
    """The checklist of agreements in one language; `fallback` as for `AgendaTemplate`."""

    key: str
    locale: str
    title: str
    description: str
    items: tuple[ChecklistItem, ...]
    fallback: tuple[str, ...] = ()


# -- the loaded set ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Doc:
    kind: Kind
    key: str
    data: Mapping[str, Any]
    source: Path


@dataclass(frozen=True, slots=True)
class TemplateSet:
    """Every template loaded, by kind and key, with lookups in one language."""

    docs: Mapping[tuple[str, str], _Doc] = field(default_factory=dict)

    def keys(self, kind: Kind) -> tuple[str, ...]:
        """The keys of every template of one kind, sorted."""
        return tuple(sorted(key for k, key in self.docs if k == kind))

    def source(self, kind: Kind, key: str) -> Path:
        """The file a template was loaded from (the one that won, for an override)."""
        return self._doc(kind, key).source

    def agenda(self, key: str = DEFAULT_AGENDA, locale: str = "nl") -> AgendaTemplate:
        """An agenda template in `locale`, falling back per text to the other language."""
        data = self._doc("agenda", key).data
        t = _Texts(template_language(locale))
        follow = data.get("follow_up") or {"key": "follow_up", "title": _FOLLOW_UP}
        themes = tuple(
            ThemeTemplate(
                key=theme["key"],
                title=t.get(theme["title"], f"themes[{n}].title"),
                hint=t.get(theme.get("hint"), f"themes[{n}].hint"),
                prompts=tuple(
                    t.get(p, f"themes[{n}].prompts[{m}]")
                    for m, p in enumerate(theme.get("prompts", ()))
                ),
            )
            for n, theme in enumerate(data["themes"])
        )
        return AgendaTemplate(
            key=key,
            locale=t.lang,
            title=t.get(data["title"], "title"),
            description=t.get(data.get("description"), "description"),
            themes=themes,
            follow_up=Theme(follow["key"], t.get(follow["title"], "follow_up.title")),
            reflection=tuple(
                t.get(p, f"reflection[{n}]") for n, p in enumerate(data.get("reflection", ()))
            )
            or tuple(p for theme in themes for p in theme.prompts),
            schemes=tuple(
                Scheme(
                    key=s["key"],
                    title=t.get(s["title"], f"schemes[{n}].title"),
                    reason=t.get(s["reason"], f"schemes[{n}].reason"),
                    months=tuple(s.get("months", ())),
                    min_years=s.get("min_years"),
                )
                for n, s in enumerate(data.get("schemes", ()))
            ),
            fallback=t.fallback(),
        )

    def theme_text(self, theme: Theme, locale: str = "nl") -> ThemeTemplate | None:
        """The template text of an agenda's `theme` in `locale`, or None for a theme of its own.

        An agenda keeps its theme titles in the language it was made in. A theme whose key and
        title (in either language) are a template's is that template's theme: its title, hint and
        prompts can be shown in any language. A title someone wrote, or one a template no longer
        has, matches nothing and is shown as written.
        """
        lang = template_language(locale)
        for kind, key in sorted(self.docs):
            if kind != "agenda":
                continue
            data = self.docs[(kind, key)].data
            follow = data.get("follow_up") or {"key": "follow_up", "title": _FOLLOW_UP}
            for candidate in (*data["themes"], follow):
                titles = {str(v).strip() for v in candidate["title"].values()}
                if candidate["key"] == theme.key and theme.title in titles:
                    t = _Texts(lang)
                    return ThemeTemplate(
                        key=theme.key,
                        title=t.get(candidate["title"], "title"),
                        hint=t.get(candidate.get("hint"), "hint"),
                        prompts=tuple(t.get(p, "prompts") for p in candidate.get("prompts", ())),
                    )
        return None

    def localize(self, agenda: Agenda, locale: str = "nl") -> Agenda:
        """`agenda` with every template theme titled in `locale` (see `theme_text`)."""
        themes = []
        for theme in agenda.themes:
            text = self.theme_text(theme, locale)
            themes.append(theme if text is None else Theme(theme.key, text.title))
        return replace(agenda, themes=tuple(themes))

    def schemes(self, agenda: str, locale: str = "nl") -> tuple[Scheme, ...]:
        """The schemes to suggest to a pair with agenda template `agenda`: the organisation's
        (every ``kind: schemes`` file) and the ones its agenda template lists, in `locale`."""
        t = _Texts(template_language(locale))
        listed = [
            s
            for kind, key in sorted(self.docs)
            if kind == "schemes"
            for s in self.docs[(kind, key)].data["schemes"]
        ]
        found = [
            Scheme(
                key=s["key"],
                title=t.get(s["title"], "title"),
                reason=t.get(s["reason"], "reason"),
                months=tuple(s.get("months", ())),
                min_years=s.get("min_years"),
            )
            for s in listed
        ]
        own = self.agenda(agenda, locale).schemes if ("agenda", agenda) in self.docs else ()
        keys = {s.key for s in found}
        return (*found, *(s for s in own if s.key not in keys))

    def questions(self, key: str = DEFAULT_QUESTIONS, locale: str = "nl") -> QuestionBank:
        """A question bank in `locale`, falling back per text to the other language."""
        data = self._doc("questions", key).data
        t = _Texts(template_language(locale))
        groups = tuple(
            QuestionGroup(
                key=group["key"],
                mode=group["mode"],
                direction=group["direction"],
                title=t.get(group["title"], f"groups[{n}].title"),
                questions=tuple(
                    Question(q["key"], t.get(q["text"], f"groups[{n}].questions[{m}].text"))
                    for m, q in enumerate(group["questions"])
                ),
            )
            for n, group in enumerate(data["groups"])
        )
        return QuestionBank(
            key=key,
            locale=t.lang,
            title=t.get(data["title"], "title"),
            description=t.get(data.get("description"), "description"),
            groups=groups,
            fallback=t.fallback(),
        )

    def checklist(self, key: str = DEFAULT_CHECKLIST, locale: str = "nl") -> Checklist:
        """A checklist of agreements in `locale`, falling back per text to the other language."""
        data = self._doc("checklist", key).data
        t = _Texts(template_language(locale))
        items = tuple(
            ChecklistItem(
                key=item["key"],
                title=t.get(item["title"], f"items[{n}].title"),
                explanation=t.get(item["explanation"], f"items[{n}].explanation"),
            )
            for n, item in enumerate(data["items"])
        )
        return Checklist(
            key=key,
            locale=t.lang,
            title=t.get(data["title"], "title"),
            description=t.get(data.get("description"), "description"),
            items=items,
            fallback=t.fallback(),
        )

    def _doc(self, kind: Kind, key: str) -> _Doc:
        doc = self.docs.get((kind, key))
        if doc is None:
            known = ", ".join(self.keys(kind)) or "none"
            raise TemplateError(f"no {kind} template {key!r}: use one of {known}")
        return doc


class _Texts:
    """Picks each text in one language and remembers where it had to fall back."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._fallback: list[str] = []

    def get(self, text: Mapping[str, str] | None, where: str) -> str:
        if not text:
            return ""
        if self.lang in text:
            return text[self.lang]
        self._fallback.append(where)
        other = next(lang for lang in LANGUAGES if lang in text)
        return text[other]

    def fallback(self) -> tuple[str, ...]:
        return tuple(self._fallback)


def template_language(locale: str) -> str:
    """``nl`` or ``en`` for `locale`; anything else is a `TemplateError`."""
    try:
        return language(locale)
    except CadenceError as exc:
        raise TemplateError(str(exc)) from exc


# -- loading -------------------------------------------------------------------------------------


def load_templates(extra_dirs: Sequence[Path] = ()) -> TemplateSet:
    """The built-in templates, then each folder of `extra_dirs` in order, later ones winning.

    Every ``*.yaml`` / ``*.yml`` file in a folder is one template. A broken file raises
    `TemplateError` naming the file, the field and what to change; so do a missing folder and two
    files with the same kind and key in one folder.
    """
    docs: dict[tuple[str, str], _Doc] = {}
    for folder in (_DATA, *(Path(d) for d in extra_dirs)):
        docs.update(_load_folder(folder))
    return TemplateSet(docs)


def _load_folder(folder: Path) -> dict[tuple[str, str], _Doc]:
    if not folder.is_dir():
        raise TemplateError(
            f"template folder {folder} does not exist: create it or remove it from the settings"
        )
    files = sorted(p for p in folder.iterdir() if p.suffix in _SUFFIXES and p.is_file())
    if len(files) > _MAX_FILES:
        raise TemplateError(
            f"template folder {folder} holds {len(files)} files: keep it to {_MAX_FILES}"
        )
    found: dict[tuple[str, str], _Doc] = {}
    # The built-in files are checked against the schema by the tests; an organisation's at
    # every start (jsonschema and its check cost about 0.1 s).
    checked = folder != _DATA
    for path in files:
        doc = _load_file(path, checked=checked)
        ident = (doc.kind, doc.key)
        if ident in found:
            raise TemplateError(
                f"{path}: field key: {doc.kind} template {doc.key!r} is also defined in "
                f"{found[ident].source.name} in the same folder: rename one key or remove one file"
            )
        found[ident] = doc
    return found


def _load_file(path: Path, *, checked: bool = True) -> _Doc:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read the file ({exc.strerror})") from exc
    if len(raw) > _MAX_BYTES:
        raise TemplateError(f"{path}: the file is {len(raw)} bytes: keep it under {_MAX_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError(f"{path}: the file is not UTF-8: save it as UTF-8") from exc
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise TemplateError(
            f"{path}: the YAML is broken{where} ({problem}): fix the syntax there "
            "(a text with ': ' in it needs quotes)"
        ) from exc
    if data is None:
        raise TemplateError(f"{path}: the file is empty: give it a kind, a key and a title")
    errors = sorted(_validator().iter_errors(data), key=_error_order) if checked else []
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise TemplateError(f"{path}: field {_field(first)}: {_advice(first)}{more}")
    _check_unique_keys(path, data)
    if data["kind"] == "agenda":
        _check_theme_titles(path, data)
    return _Doc(kind=data["kind"], key=data["key"], data=data, source=path)


@cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # noqa: PLC0415 (only for organisations' files)

    schema = json.loads(_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema() -> dict[str, Any]:
    """The JSON Schema every template file must match (a copy)."""
    return json.loads(_SCHEMA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _check_unique_keys(path: Path, data: Mapping[str, Any]) -> None:
    lists: list[tuple[str, Iterable[Mapping[str, Any]]]] = []
    if data["kind"] == "agenda":
        lists.append(("themes", data["themes"]))
        lists.append(("schemes", data.get("schemes", ())))
    elif data["kind"] == "schemes":
        lists.append(("schemes", data["schemes"]))
    elif data["kind"] == "questions":
        lists.append(("groups", data["groups"]))
        lists.extend(
            (f"groups[{n}].questions", g["questions"]) for n, g in enumerate(data["groups"])
        )
    else:
        lists.append(("items", data["items"]))
    for where, entries in lists:
        seen: set[str] = set()
        for n, entry in enumerate(entries):
            if entry["key"] in seen:
                raise TemplateError(
                    f"{path}: field {where}[{n}].key: {entry['key']!r} is used twice in "
                    f"{where}: give each a different key"
                )
            seen.add(entry["key"])


def _check_theme_titles(path: Path, data: Mapping[str, Any]) -> None:
    """Each theme title must make a domain `Theme`: a bad one stops the load, not a later agenda."""
    titles = [(f"themes[{n}]", theme) for n, theme in enumerate(data["themes"])]
    if "follow_up" in data:
        titles.append(("follow_up", data["follow_up"]))
    for where, theme in titles:
        for lang, title in theme["title"].items():
            try:
                Theme(theme["key"], title)
            except CadenceError:
                raise TemplateError(
                    f"{path}: field {where}.title.{lang}: a theme title must be one line with "
                    "some text in it: shorten it and put the rest in the hint"
                ) from None


def _error_order(error: ValidationError) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.absolute_path)


def _field(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _advice(error: ValidationError) -> str:
    """The problem in words and what to change."""
    kind = str(error.validator)
    expected: Any = error.validator_value
    value: Any = error.instance
    subschema: Any = error.schema
    if kind == "required":
        missing = [name for name in expected if isinstance(value, dict) and name not in value]
        return f"{', '.join(repr(m) for m in missing)} is missing: add it"
    if kind == "additionalProperties":
        allowed = sorted(subschema.get("properties", {}))
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        return (
            f"{', '.join(repr(e) for e in extra)} is not allowed here: remove it "
            f"(allowed: {', '.join(allowed)})"
        )
    if kind == "type":
        want = _a(str(expected))
        return f"expected {want}, got {_a(_type_name(value))}: make it {want}"
    if kind == "enum":
        return f"{value!r} is not allowed: use one of {', '.join(map(str, expected))}"
    if kind == "const":
        return f"{value!r} is not allowed: use {expected!r}"
    if kind == "pattern":
        return (
            f"{value!r} is not a valid key: use lowercase letters, digits and _, starting with a "
            "letter, at most 40 characters"
        )
    if kind == "minLength":
        return "the text is empty: write it, or leave the language out"
    if kind == "maxLength":
        return f"the text is {len(value)} characters: shorten it to {expected}"
    if kind == "minItems":
        return f"the list is empty or too short: give at least {expected}"
    if kind == "maxItems":
        return f"the list has {len(value)} entries: keep it to {expected}"
    if kind == "minProperties":
        return "the text has no language: give it in nl, en or both"
    return f"{error.message}: correct it to match the template schema"


def _a(word: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a number"}
    return names.get(word, word)


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "nothing"
    return type(value).__name__
