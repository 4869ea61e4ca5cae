"""The speed figures of `make bench` as Markdown, and the marked sections both benches own in docs/benchmarks.md."""

from __future__ import annotations

import re
import statistics
from pathlib import Path


def write_section(page: Path, name: str, markdown: str) -> None:
    """Replace the section ``name`` of ``page`` (between its markers), or append it: each bench owns one section."""
    begin, end = f"<!-- begin: {name} (generated; do not edit by hand) -->", f"<!-- end: {name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    elif text.strip():
        text = f"{text.rstrip()}\n\n{block}\n"
    else:
        text = f"{block}\n"
    page.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def render(result: dict, *, command: str) -> str:
    """Every speed figure with its raw-parts reference and the ratio the targets are stated in."""
    lines = [
        "## Speed and memory",
        "",
        f"- command: `{command}`",
        f"- date: {result['date']}",
        f"- machine: {result['machine']}",
        f"- model: `{result['model']}`, backend `{result['backend']}`",
        "",
    ]
    for scenario in result["scenarios"]:
        lines += _scenario(scenario)
    if "combined_sets" in result:
        lines += _memory_per_chunk(result["scenarios"])
    lines += _backends(result["backends"])
    return "\n".join(lines)


def _scenario(s: dict) -> list[str]:
    build, parts, http, cached = s["build"], s["parts_ms"], s["http_ms"], s["http_cached_ms"]
    healthz, floor, hop = s["healthz_ms"], s["bare_floor_ms"], s["bare_floor_with_hop_ms"]
    lines = [
        f"### {s['name']}: {build['articles']} articles, {build['chunks']} chunks",
        "",
        f"Search, {s['queries']} queries × {s['rounds']} rounds, one at a time, each after {s['pause_ms']:.0f} ms "
        "idle (ms):",
        "",
        "| | p50 | p95 | p99 | p50 ÷ parts p50 |",
        "|---|---|---|---|---|",
    ]
    rows = [
        ("raw parts (query encode when needed + both lookups)", parts),
        ("raw parts back to back, no idle time (hot caches: not what a server sees)", s["parts_back_to_back_ms"]),
        ("HTTP, query cache off", http),
        ("HTTP, repeated query (cache on)", cached),
        ("GET /healthz on kb's server", healthz),
        ("the floor: a bare FastAPI app, one async route, same uvicorn settings", floor),
        ("the same route sending a no-op to the thread pool (the hop a search makes)", s["bare_floor_with_hop_ms"]),
    ]
    if s.get("healthz_access_log_ms"):
        rows.append(("GET /healthz with KB_ACCESS_LOG=true (its own run; bare floor beside it: "
                     f"{s['bare_floor_beside_access_log_ms']['p50']:.2f})", s["healthz_access_log_ms"]))
    for label, row in rows:
        lines.append(f"| {label} | {row['p50']:.2f} | {row['p95']:.2f} | {row['p99']:.2f} | {row['p50'] / parts['p50']:.2f}× |")
    overhead = http["p50"] / (parts["p50"] + floor["p50"])
    lines += [
        "",
        f"- search p50 over HTTP ÷ (raw parts p50 + floor p50): **{overhead:.2f}** "
        f"({http['p50']:.2f} ÷ ({parts['p50']:.2f} + {floor['p50']:.2f})); target ≤ 1.3",
        f"- the same with the floor that hops to the thread pool: **{http['p50'] / (parts['p50'] + hop['p50']):.2f}** "
        f"({http['p50']:.2f} ÷ ({parts['p50']:.2f} + {hop['p50']:.2f}))",
        f"- GET /healthz p50 ÷ floor p50: **{healthz['p50'] / floor['p50']:.2f}**; target ≤ 1.2",
        f"- p99 ÷ p50 over HTTP, cache off: **{http['p99'] / http['p50']:.2f}**",
        f"- index build from an empty cache: {build['build_seconds']:.1f} s, {build['build_chunks_per_s']:.1f} chunks/s "
        f"({build['texts']} texts embedded: the chunks and the whole articles of several chunks); "
        f"raw `encode` of the same texts: {build['raw_encode_texts_per_s']:.1f} texts/s; "
        f"build ÷ raw throughput **{build['ratio']:.2f}**; inside the build, the model's own encode took "
        f"{build['model_seconds']:.1f} s of {build['build_seconds']:.1f} s (**{build['model_share']:.2f}**)",
        f"- server memory: {s['memory_mb']['rss']:.0f} MiB resident once warmed up; peak over the whole run "
        f"{'(load test included) ' if s.get('loads') else ''}**{s['memory_mb']['peak']:.0f} MiB**",
    ]
    for setting, load in s.get("loads", {}).items():
        probe = load["healthz_under_load_ms"]
        lines.append(
            f"- wrk, {load['connections']} connections, {load['seconds']:.0f} s, {setting}: "
            f"{load['requests']} requests, **{load['requests_per_s']:.1f} req/s**, p50 {load['p50_ms']:.1f} ms, "
            f"p90 {load['p90_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, max {load['max_ms']:.1f} ms, "
            f"**{load['errors']} errors** (non-2xx {load['status_errors']}, timeouts {load['timeouts']}); meanwhile "
            f"GET /healthz every 50 ms answered in p50 {probe['p50']:.1f} ms, p99 {probe['p99']:.1f} ms"
        )
    if s.get("reindex"):
        totals = [run["total_s"] for run in s["reindex"]]
        lines.append(
            f"- one article edited and committed → refreshed → found by search: median **{statistics.median(totals):.2f} s**, "
            f"worst {max(totals):.2f} s over {len(totals)} edits (refresh {statistics.median(r['refresh_s'] for r in s['reindex']):.2f} s, "
            f"{s['reindex'][0]['parsed']} article parsed, {s['reindex'][0]['embedded']} chunks embedded)"
        )
    return [*lines, ""]


def _memory_per_chunk(scenarios: list[dict]) -> list[str]:
    small, large = scenarios[0], scenarios[-1]
    chunks = large["build"]["chunks"] - small["build"]["chunks"]
    extra = (large["memory_mb"]["rss"] - small["memory_mb"]["rss"]) * 1024 * 1024
    return [
        "### Memory per chunk",
        "",
        f"Resident memory of the two warmed-up servers differs by {extra / 2**20:.0f} MiB for {chunks} more chunks: "
        f"**{extra / chunks / 1024:.1f} KiB per chunk** (vectors, BM25 postings, chunk and article text, snapshot "
        "metadata; the model's own memory cancels out).",
        "",
    ]


def _backends(backends: dict[str, dict[str, float]]) -> list[str]:
    torch = backends["torch"]
    lines = [
        "### Embedding backends (`KB_EMBEDDING_BACKEND`)",
        "",
        "| backend | one query p50 ms | p95 ms | speed-up vs torch | indexing chunks/s |",
        "|---|---|---|---|---|",
    ]
    for name, row in backends.items():
        lines.append(
            f"| {name} | {row['query_p50_ms']:.2f} | {row['query_p95_ms']:.2f} | "
            f"{torch['query_p50_ms'] / row['query_p50_ms']:.2f}× | {row['chunks_per_s']:.1f} |"
        )
    return [*lines, ""]
