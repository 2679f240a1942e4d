"""Render a benchmark run (``bench.json`` from `bench.run`) as Markdown with matplotlib plots.

    python -m bench.report --results bench/results --doc docs/benchmarks.md

Plots go beside the document, in a folder named after it (docs/benchmarks/*.png).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

OP_NAMES = {
    "get_event": "get an event",
    "list_25": "list 25 events in a window",
    "create_event": "create an event",
    "update_event": "update subject and body",
    "delete_event": "delete an event",
    "drive_roundtrip": "upload + download a 4 KB file",
}
PROVIDER_NAMES = {"graph": "Microsoft Graph", "google": "Google Calendar"}
FLOOR = "raw"
OURS = "connector"


def best_peer(row: dict[str, Any]) -> tuple[str, float] | None:
    """The peer (not ours, not the floor) with the lowest ratio, and that ratio."""
    peers = [(who, r["ratio"]) for who, r in row.items() if who not in (OURS, FLOOR)]
    return min(peers, key=lambda p: p[1]) if peers else None


def verdict(row: dict[str, Any]) -> str:
    """``at or below`` / ``above`` the best peer: our p50 against its p50 (the same floor
    divides both, so this is the ratio unrounded)."""
    best = best_peer(row)
    if best is None or OURS not in row:
        return "no peer"
    return "at or below" if row[OURS]["p50_ms"] <= row[best[0]]["p50_ms"] else "above"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def peers_section(provider: str, per_latency: dict[str, Any], plot: str | None) -> list[str]:
    """One table per latency: each op's ratio beside the best peer's, and a reading."""
    lines = [f"### {PROVIDER_NAMES.get(provider, provider)}", ""]
    for latency, ops in per_latency.items():
        clients = _clients(ops.values())
        head = ["operation", "ours ×raw", "best peer ×raw", "verdict", "ours − best peer ms"]
        head += ["raw p50 ms"]
        head += [f"{c} p50 / p95 ms" for c in clients] + ["requests " + "/".join(clients)]
        lines += [f"**{latency} latency per request**", ""]
        lines += [_row(head), _row(["---"] * len(head))]
        above: list[str] = []
        for op, row in ops.items():
            best = best_peer(row)
            shown_best = f"{best[1]:.2f} ({best[0]})" if best else "-"
            said = verdict(row)
            if said == "above":
                above.append(OP_NAMES.get(op, op))
            cells = [
                OP_NAMES.get(op, op),
                f"{row[OURS]['ratio']:.2f}" if OURS in row else "-",
                shown_best,
                said,
                f"{row[OURS]['p50_ms'] - row[best[0]]['p50_ms']:+.2f}" if best else "-",
                _ms(row[FLOOR]["p50_ms"]) if FLOOR in row else "-",
            ]
            cells += [
                f"{_ms(row[c]['p50_ms'])} / {_ms(row[c]['p95_ms'])}" if c in row else "-"
                for c in clients
            ]
            cells.append(
                "/".join(f"{row[c]['requests_per_call']:g}" if c in row else "-" for c in clients)
            )
            lines.append(_row(cells))
        shared = sum(1 for row in ops.values() if best_peer(row) is not None)
        if above:
            reading = (
                f"At {latency} we are above the best peer on {len(above)} of {shared} "
                f"operations: {', '.join(above)}."
            )
        else:
            reading = f"At {latency} we are at or below the best peer on all {shared} operations."
        lines += ["", reading, ""]
    if plot:
        lines += [f"![{provider} ratios to raw HTTP]({plot})", ""]
    return lines


def app_cpu(data: dict[str, Any]) -> tuple[float, float] | None:
    """The lowest and highest p50 of the app's CPU per context over every case measured."""
    found = [
        r["app_cpu_p50_ms"]
        for per_provider in data.values()
        for role in ("employee", "manager")
        for r in per_provider[role].values()
        if "app_cpu_p50_ms" in r
    ]
    return (min(found), max(found)) if found else None


def context_section(data: dict[str, Any], plot: str | None) -> list[str]:
    """The panel's context per provider, partner and case, beside round trips x latency."""
    lines = ["## The side panel's context (`GET /api/context`)", ""]
    any_latency = next(iter(data.values()))["latency_per_request_ms"]
    lines += [
        f"At {any_latency:g} ms per provider request. Floor = round trips on the critical path × "
        "latency; beyond floor = p50 minus floor (our CPU, the emulator's, and waiting on both); "
        "app CPU = the process's CPU time during the call less what the emulator's threads "
        "spent (target: 5 ms).",
        "",
    ]
    head = [
        "provider",
        "partner",
        "case",
        "p50 ms",
        "floor ms",
        "round trips",
        "requests",
        "beyond floor ms",
        "app CPU ms",
    ]
    lines += [_row(head), _row(["---"] * len(head))]
    worst_first = 0
    for provider, found in data.items():
        for role in ("employee", "manager"):
            for case in ("first_open", "remembered"):
                r = found[role][case]
                if case == "first_open":
                    worst_first = max(worst_first, r["critical_path"])
                lines.append(
                    _row(
                        [
                            PROVIDER_NAMES.get(provider, provider),
                            role,
                            case.replace("_", " "),
                            _ms(r["p50_ms"]),
                            _ms(r["floor_ms"]),
                            str(r["critical_path"]),
                            f"{r['requests_per_call']:g}",
                            _ms(r["app_ms"]),
                            _ms(r["app_cpu_p50_ms"]) if "app_cpu_p50_ms" in r else "-",
                        ]
                    )
                )
    one = "one round trip" if worst_first == 1 else f"up to {worst_first} round trips"
    remembered = max(
        found[role]["remembered"]["critical_path"]
        for found in data.values()
        for role in ("employee", "manager")
    )
    lines += [
        "",
        f"The first open takes {one} on the critical path; a remembered event "
        f"{'one' if remembered == 1 else f'up to {remembered}'}.",
        "",
    ]
    cpu = app_cpu(data)
    if cpu:
        lines += [f"App CPU per context: {cpu[0]:.1f} to {cpu[1]:.1f} ms p50 (target 5 ms).", ""]
    if plot:
        lines += [f"![context beside its floor]({plot})", ""]
    lines += ["<details><summary>Request timelines (first call of each case)</summary>", ""]
    for provider, found in data.items():
        for role in ("employee", "manager"):
            for case in ("first_open", "remembered"):
                lines += [f"{provider} {role} {case.replace('_', ' ')}:", "", "```"]
                lines += found[role][case]["timeline"] or ["(no provider request)"]
                lines += ["```", ""]
    lines += ["</details>", ""]
    return lines


def cold_section(data: dict[str, Any]) -> list[str]:
    """Fresh processes with BACKEND=graph: medians against the targets."""
    m = data["median"]
    lines = ["## Cold start (BACKEND=graph)", ""]
    lines += [
        f"Median of {data['runs']} fresh processes, each answering one context (remembered event) "
        "with no added latency, started as a served app is: from compiled modules, with the "
        "app's settings for serving (not testing).",
        "",
        _row(["step", "median ms", "target ms"]),
        _row(["---"] * 3),
        _row(["interpreter up", _ms(m["interpreter_ms"]), "-"]),
        _row(["import addin.app", _ms(m["import_ms"]), "-"]),
        _row(["create_app", _ms(m["create_app_ms"]), "300"]),
        _row(["first context, from process start", _ms(m["first_context_since_start_ms"]), "500"]),
    ]
    peers = data.get("first_event_since_start_ms", {})
    if "connector" in peers:
        lines.append(
            _row(
                [
                    "GraphAccount alone: first event, from process start",
                    _ms(peers["connector"]),
                    "-",
                ]
            )
        )
    if "o365" in peers:
        lines.append(
            _row(["python-o365: first event, from process start", _ms(peers["o365"]), "-"])
        )
    lines.append("")
    met = m["create_app_ms"] <= 300 and m["first_context_since_start_ms"] <= 500
    lines += [
        "Both targets met."
        if met
        else "Above target: "
        f"create_app {m['create_app_ms']:.0f} ms (300), first context "
        f"{m['first_context_since_start_ms']:.0f} ms (500).",
        "",
    ]
    return lines


def store_section(data: dict[str, Any], plot: str | None) -> list[str]:
    """The local backend's context and a week's listing as the calendar grows."""
    lines = ["## Local store scaling", ""]
    head = ["events in calendar", "context p50 / p95 ms", "list a week p50 / p95 ms", "listed"]
    lines += [_row(head), _row(["---"] * len(head))]
    for size, r in data.items():
        c, w = r["context"], r["list_week"]
        lines.append(
            _row(
                [
                    f"{int(size):,}",
                    f"{_ms(c['p50_ms'])} / {_ms(c['p95_ms'])}",
                    f"{_ms(w['p50_ms'])} / {_ms(w['p95_ms'])}",
                    str(w["events"]),
                ]
            )
        )
    sizes = list(data)
    first, last = data[sizes[0]], data[sizes[-1]]
    growth = last["context"]["p50_ms"] / first["context"]["p50_ms"]
    listing = last["list_week"]["p50_ms"] / first["list_week"]["p50_ms"]
    lines += [
        "",
        f"From {int(sizes[0]):,} to {int(sizes[-1]):,} events the context's p50 grows "
        f"{growth:.1f}x and a week's listing {listing:.1f}x, though it returns the same "
        f"{last['list_week']['events']} events at every size.",
        "",
    ]
    if plot:
        lines += [f"![local store scaling]({plot})", ""]
    return lines


def cadence_section(data: dict[str, Any]) -> list[str]:
    """The domain's own work: recurrence expansion, conversions, the planner."""
    lines = ["## The domain (no provider)", ""]
    lines += [_row(["measurement", "p50 ms", "p95 ms"]), _row(["---"] * 3)]
    for name, r in data.items():
        lines.append(_row([name.replace("_", " "), _ms(r["p50_ms"]), _ms(r["p95_ms"])]))
    slowest = max(data.items(), key=lambda item: item[1]["p50_ms"])
    lines += [
        "",
        f"The slowest is {slowest[0].replace('_', ' ')} at {_ms(slowest[1]['p50_ms'])} ms.",
        "",
    ]
    return lines


def above_best_peer(result: dict[str, Any]) -> dict[str, list[str]]:
    """Per ``provider latency``, the operations where our ratio is above the best peer's."""
    return {
        f"{PROVIDER_NAMES.get(provider, provider)} at {latency}": [
            OP_NAMES.get(op, op) for op, row in ops.items() if verdict(row) == "above"
        ]
        for provider, per_latency in result["peers"].items()
        for latency, ops in per_latency.items()
    }


def summary_section(result: dict[str, Any]) -> list[str]:
    """Where we stand against issue 11's bar: the best peer everywhere, first open in one trip."""
    lines = ["## Summary", ""]
    for where, ops in above_best_peer(result).items():
        said = f"above the best peer on {', '.join(ops)}" if ops else "at or below the best peer"
        lines.append(f"- {where}: {said}.")
    trips = {
        f"{PROVIDER_NAMES.get(provider, provider)} {role}": found[role]["first_open"][
            "critical_path"
        ]
        for provider, found in result["context"].items()
        for role in ("employee", "manager")
    }
    more = [f"{who} {n}" for who, n in trips.items() if n != 1]
    lines.append(
        "- The context's first open: one round trip everywhere."
        if not more
        else f"- The context's first open takes more than one round trip: {', '.join(more)}."
    )
    cpu = app_cpu(result["context"])
    if cpu:
        lines.append(f"- App CPU per context: {cpu[0]:.1f} to {cpu[1]:.1f} ms p50 (target 5 ms).")
    m = result["cold_start"]["median"]
    lines += [
        f"- Cold start (BACKEND=graph): create_app {m['create_app_ms']:.0f} ms (target 300), "
        f"first context {m['first_context_since_start_ms']:.0f} ms after process start "
        "(target 500).",
        "",
    ]
    return lines


def render(
    result: dict[str, Any],
    plots: dict[str, str] | None = None,
    source: str = "bench/results/bench.json",
) -> str:
    """The whole report as Markdown; `plots` maps a plot's key to its relative path."""
    plots = plots or {}
    m = result["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `bench/report.py` from `{source}`; regenerate with "
        "`make bench BENCH_OUT=bench/results`.",
        "",
        f"Figures are from one run on {m['when']}: {m['cpu']}, {m['cores']} cores, "
        f"Python {m['python']}, {m['system']}; the whole run took {result.get('run_s', 0):g} s.",
        "Emulators on 127.0.0.1 model no server cost; the latency is added once per HTTP request. "
        "Ratios are a client's p50 over the raw HTTP floor's p50 in the same run; the clients "
        "ran round-robin per sample so machine noise reaches all alike.",
        "",
        *summary_section(result),
        "## Each call beside its floor and its peers",
        "",
        "Ours: `GraphAccount` / `GoogleAccount`. Raw: httpx / httplib2 sending the minimal "
        "requests. Peers: python-o365 (`requests_delay=0`) and gcsa; sdk: msgraph-sdk's "
        "`GraphServiceClient` and googleapiclient used as their samples show. "
        "Rounds: "
        + ", ".join(f"{n} at {lat}" for lat, n in result["settings"]["rounds"].items())
        + " (each round runs every client once per operation).",
        "",
    ]
    for provider, per_latency in result["peers"].items():
        lines += peers_section(provider, per_latency, plots.get(f"ratios_{provider}"))
    lines += context_section(result["context"], plots.get("context"))
    lines += cold_section(result["cold_start"])
    lines += store_section(result["store"], plots.get("store"))
    if "cadence" in result:
        lines += cadence_section(result["cadence"])
    if "sweep" in result:
        lines += sweep_section(result["sweep"])
    if "rollout" in result:
        lines += rollout_section(result["rollout"])
    return "\n".join(lines).rstrip() + "\n"


def rollout_section(data: dict[str, Any]) -> list[str]:
    """The organisation's roll-out (`bench.rollout`'s results, from its own run)."""
    found = data.get("results", data)
    lines = ["## The roll-out", ""]
    when = data.get("when")
    if when:
        lines += [f"From `make bench-rollout` on {when} (`rollout.json`).", ""]
    head = ["emulator", "pairs", "wall s", "quota-bound minimum s", "app CPU ms a pair", "requests"]
    rows = []
    for key, label in (("graph", "in-process"), ("graph_apart", "its own process")):
        r = found.get(key)
        if not r:
            continue
        requests = (
            f"{r['requests_per_pair']:g} HTTP requests a pair (a $batch is one)"
            if "requests_per_pair" in r
            else f"{r['requests_served'] / r['pairs']:.1f} served a pair (each $batch item one)"
        )
        rows.append(
            _row(
                [
                    label,
                    f"{r['pairs']:,}",
                    f"{r['wall_s']:g}",
                    f"{r['quota_bound_minimum_s']:g}",
                    f"{r['app_cpu_ms_per_pair']:g}",
                    requests,
                ]
            )
        )
    if not rows:
        return []
    graph = found.get("graph") or found.get("graph_apart") or {}
    lines += [
        f"`goedgesprek rollout` planning every pair against the Microsoft Graph emulator at "
        f"{graph.get('latency_ms', 100):g} ms a request and at most "
        f"{graph.get('per_mailbox', 4)} concurrent requests per mailbox, "
        f"{graph.get('threads', 32)} pairs at once. The quota-bound minimum is one pair's own "
        "chain of round trips: no mailbox serves more than a handful of requests. The wall time "
        "is bound by CPU (the roll-out's own, on one interpreter, and the emulator's). Each "
        "plan reads both partners' free/busy for 400 days: seven 62-day windows of getSchedule "
        "in one $batch.",
        "",
        _row(head),
        _row(["---"] * len(head)),
        *rows,
        "",
    ]
    return lines


def sweep_section(data: dict[str, Any]) -> list[str]:
    """The background sweep at scale (`bench.sweep`'s results, from its own run)."""
    found = data.get("results", data)
    lines = ["## The background sweep", ""]
    when = data.get("when")
    if when:
        lines += [f"From `make bench-sweep` on {when} (`sweep.json`).", ""]
    local = found.get("local")
    if local:
        head = ["sweep", "series read", "sent", "wall s", "CPU s", "CPU ms per series read"]
        lines += [
            f"The embedded store with {local['series']:,} series (each master in the "
            "employee's calendar). The first sweep reads every series; later ones only those "
            "where something may fall due, and each at least hourly.",
            "",
            _row(head),
            _row(["---"] * len(head)),
        ]
        for key, label in (
            ("every_series", "first: every series"),
            ("five_minutes_later", "5 minutes later"),
            ("an_hour_later", "an hour later"),
        ):
            r = local.get(key)
            if r:
                lines.append(
                    _row(
                        [
                            label,
                            f"{r['series_read']:,}",
                            f"{r['sent']:,}",
                            _ms(r["wall_s"]),
                            _ms(r["cpu_s"]),
                            _ms(r["cpu_ms_per_series_read"])
                            if r.get("cpu_ms_per_series_read") is not None and r["series_read"]
                            else "-",
                        ]
                    )
                )
        lines.append("")
    graph = found.get("graph")
    if graph:
        first = graph["every_series"]
        lines += [
            f"Microsoft Graph emulator, {graph['series']:,} series, {graph['latency_ms']:g} ms "
            f"a request, at most {graph['per_mailbox']} concurrent requests per mailbox, "
            f"{graph['threads']} series at once: a sweep reading every series took "
            f"{first['wall_s']:g} s ({graph['requests']:,} requests, "
            f"{graph['requests_per_series']:g} a series, {first['sent']:,} mails sent), "
            f"{graph['over_minimum']:g}x the quota-bound minimum of "
            f"{graph['quota_bound_minimum_s']:g} s.",
            "",
        ]
    return lines


def _clients(rows: Iterable[dict[str, Any]]) -> list[str]:
    order = [OURS, FLOOR]
    for row in rows:
        order += [c for c in row if c not in order]
    return order


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


# -- plots -------------------------------------------------------------------------------------


def draw(result: dict[str, Any], folder: Path) -> dict[str, str]:
    """Write the PNG plots into `folder`; their keys and file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, str] = {}
    for provider, per_latency in result["peers"].items():
        fig, axes = plt.subplots(1, len(per_latency), figsize=(6 * len(per_latency), 4.2))
        axes = axes if len(per_latency) > 1 else [axes]
        for ax, (latency, ops) in zip(axes, per_latency.items(), strict=True):
            clients = [c for c in _clients(ops.values()) if c != FLOOR]
            width = 0.8 / len(clients)
            for k, who in enumerate(clients):
                xs = [i + k * width for i in range(len(ops))]
                ys = [row[who]["ratio"] if who in row else 0 for row in ops.values()]
                ax.bar(xs, ys, width, label=who)
            ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
            ax.set_yscale("log")  # a 40x bar would flatten the rest
            ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
            ax.tick_params(axis="y", which="minor", labelsize=7)
            ax.set_xticks([i + 0.4 - width / 2 for i in range(len(ops))])
            ax.set_xticklabels(list(ops), rotation=30, ha="right", fontsize=8)
            ax.set_ylabel("p50 / raw p50 (log scale)")
            ax.set_title(f"{PROVIDER_NAMES.get(provider, provider)}, {latency}")
            ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"ratios_{provider}.png"
        fig.savefig(folder / name, dpi=90)
        plt.close(fig)
        made[f"ratios_{provider}"] = name
    made["context"] = _draw_context(plt, result, folder)
    made["store"] = _draw_store(plt, result, folder)
    return made


def _draw_context(plt: Any, result: dict[str, Any], folder: Path) -> str:
    labels, p50s, floors = [], [], []
    for provider, found in result["context"].items():
        for role in ("employee", "manager"):
            for case in ("first_open", "remembered"):
                r = found[role][case]
                labels.append(f"{provider}\n{role}\n{case.replace('_', ' ')}")
                p50s.append(r["p50_ms"])
                floors.append(r["floor_ms"])
    fig, ax = plt.subplots(figsize=(10, 4.2))
    xs = list(range(len(labels)))
    ax.bar([x - 0.2 for x in xs], p50s, 0.4, label="p50")
    ax.bar([x + 0.2 for x in xs], floors, 0.4, label="floor (round trips × latency)")
    latency = next(iter(result["context"].values()))["latency_per_request_ms"]
    ax.axhline(latency, color="black", linewidth=0.8, linestyle="--", label="one round trip")
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("ms")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "context.png", dpi=90)
    plt.close(fig)
    return "context.png"


def _draw_store(plt: Any, result: dict[str, Any], folder: Path) -> str:
    sizes = [int(s) for s in result["store"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("context", "context"), ("list_week", "list a week")):
        ax.plot(sizes, [r[key]["p50_ms"] for r in result["store"].values()], "o-", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("events in the calendar")
    ax.set_ylabel("p50 ms")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "store.png", dpi=90)
    plt.close(fig)
    return "store.png"


def main() -> None:
    """Read ``<results>/bench.json``; write the document and its plots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--results", default="test-output/bench", help="folder with bench.json")
    parser.add_argument("--doc", default=None, help="the Markdown file (default: beside the JSON)")
    args = parser.parse_args()
    result = json.loads((Path(args.results) / "bench.json").read_text())
    sweep = Path(args.results) / "sweep.json"
    if sweep.exists():
        result["sweep"] = json.loads(sweep.read_text())
    rollout = Path(args.results) / "rollout.json"
    if rollout.exists():
        result["rollout"] = json.loads(rollout.read_text())
    doc = Path(args.doc) if args.doc else Path(args.results) / "benchmarks.md"
    folder = doc.with_suffix("")
    made = draw(result, folder)
    plots = {key: f"{folder.name}/{name}" for key, name in made.items()}
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(result, plots, (Path(args.results) / "bench.json").as_posix()))
    print(f"wrote {doc} and {len(made)} plots in {folder}")


if __name__ == "__main__":
    main()
