"""Chroma as a server (`chroma run` on 127.0.0.1) behind RAG_CHROMA_URL, started and stopped here."""

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from rag.errors import StoreError
from rag.ingest.pipeline import ingest_paths
from rag.llm.local_server import free_port
from rag.store.search import HybridRetriever

from support import SEEDS, make_store

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    exe = Path(os.sys.executable).parent / "chroma"
    if not exe.exists():
        exe = Path(shutil.which("chroma") or "chroma")
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([str(exe), "run", "--host", "127.0.0.1", "--port", str(port),
                             "--path", str(tmp_path_factory.mktemp("chroma-server"))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("chroma server did not start")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_ingest_and_search_through_a_chroma_server(tmp_path, embeddings, chroma_url):
    store = make_store(tmp_path / "d", embeddings, chroma_url=chroma_url)
    report = ingest_paths(store, [SEEDS])
    assert report.new_chunks > 0 and store.vectors.count() == store.catalog.count_chunks()
    assert not (tmp_path / "d" / "chroma").exists()  # vectors live in the server, not embedded
    docs = HybridRetriever.from_store(store).search("Patriot missiles", k=3)
    assert "patriot" in docs[0].page_content.lower()
    again = ingest_paths(store, [SEEDS])
    assert again.new_chunks == 0


def test_a_chroma_server_that_is_down_gives_a_clear_error_naming_the_url(tmp_path, embeddings):
    url = f"http://127.0.0.1:{free_port()}"
    store = make_store(tmp_path / "d", embeddings, chroma_url=url)
    with pytest.raises(StoreError, match=url.replace(".", r"\.")):
        store.vectors.count()
