"""How soon the agents' page shows the answer after the last keystroke, with ranking by meaning on and off (issue #16).

Starts the real server (gunicorn, 2 workers) on an existing knowledge base twice, with ``KB_SEMANTIC`` on and then
off, and drives Debian's chromium through Playwright: for each agent query (``bench/data/agent_queries.tsv``, as
typed) it types all but the last letter a key at a time, as an agent does (each keystroke searches and aborts the
one before), waits for that prefix's list, then presses the last key and measures, inside the page, from the key
event to the moment the list shows the full query's answer. Every query is new to the server (its results cache
is per query), so the semantic stage embeds each query once.

Run ``python -m bench.page_settle KB_DIR`` on a knowledge base a ``bench.speed --workdir DIR`` run left in
``DIR/kb`` (its vectors embedded: ``python -m indexer embed``), e.g. ``--queries 100``.
"""

import argparse
import sys
from pathlib import Path

from bench.agent_queries import load_agent_queries
from bench.report import RESULTS_DIR, format_table, latency_summary, log, write_json
from bench.speed import Server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# The page marks the list with the query it shows (app/static/page.js); the bench waits for the full query's.
SHOWN = "q => document.querySelector('#results').dataset.query === q"
MARK_LAST_KEY = (
    "() => { window.__lastKey = null; document.querySelector('#q').addEventListener('keydown', "
    "() => { window.__lastKey = performance.now(); }, {once: true}); }"
)


def settle_times(page, base_url, texts, pause_ms):
    """Milliseconds from the last keystroke to the full query's list, for each text (typed into a fresh page)."""
    page.goto(base_url + "/")
    box = page.locator("#q")
    times = []
    for text in texts:
        box.fill("")
        box.press_sequentially(text[:-1], delay=pause_ms)
        page.wait_for_function(SHOWN, arg=text[:-1].strip(), polling="raf", timeout=30_000)
        page.evaluate(MARK_LAST_KEY)
        box.press(text[-1])
        page.wait_for_function(SHOWN, arg=text.strip(), polling="raf", timeout=30_000)
        times.append(page.evaluate("() => performance.now() - window.__lastKey") / 1000)
    return times


def run(kb_dir, texts, semantic, pause_ms):
    """One server (ranking by meaning on or off) and the settle times of every text."""
    from playwright.sync_api import sync_playwright

    server = Server(kb_dir, semantic=semantic)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page()
                return settle_times(page, f"http://127.0.0.1:{server.port}", texts, pause_ms)
            finally:
                browser.close()
    finally:
        server.stop()


def main(argv=None):
    """Measure with ranking by meaning on, then off; print the table and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.page_settle", description=__doc__.split("\n\n")[0])
    parser.add_argument("kb_dir", type=Path, help="a knowledge base's KB_DATA_DIR (calls.db and index/)")
    parser.add_argument("--queries", type=int, default=100, help="agent queries typed (default 100)")
    parser.add_argument("--pause-ms", type=int, default=60, help="milliseconds between keystrokes (default 60)")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "page-settle.json")
    args = parser.parse_args(argv)
    if not (args.kb_dir / "index").is_dir():
        parser.error(f"{args.kb_dir} holds no index: give the KB_DATA_DIR of a knowledge base")
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    texts = [query.text for query in load_agent_queries()[: args.queries] if len(query.text.strip()) > 2]
    rows, results = [], {}
    for semantic in (True, False):
        label = "ranking by meaning on" if semantic else "ranking by meaning off"
        log(f"{label}: typing {len(texts)} queries")
        summary = latency_summary(run(args.kb_dir, texts, semantic, args.pause_ms))
        results[label] = summary
        rows.append({"server": label, **summary})
    columns = (("server", "server"), ("n", "n"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"), ("p99_ms", "p99 ms"))
    print(format_table(columns, rows))
    print("\nfrom the last keystroke to the full query's list on the page (Chromium, gunicorn with 2 workers)")
    print(f"wrote {write_json({'kb_dir': str(args.kb_dir), 'results': results}, args.json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
