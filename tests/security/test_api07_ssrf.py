"""API7:2023 Server Side Request Forgery: one guarded way out, and kept that way.

The server fetches no URL of a request: locators of content to take down travel only
inside the encrypted record, which the server cannot read, and JOSE headers that point at
keys by URL (`jku`, `x5u`) are refused by the envelope policy (tested in
tests/exchange/protocol/envelope/test_policy.py::test_forbidden_statement_headers). The
one outbound path is the notification worker (`exchange.notify`), which calls the webhook
targets officials registered, through the SSRF policy of
`exchange.services.destinations` (https only, public addresses only unless the operator
allows a network, re-checked before every send: tested in
tests/exchange/notify/test_subscriptions.py and test_delivery.py), and the operator's own
SMTP relay. This test keeps it so: no other server module imports a network client. The
client SDK (`exchange.client`), the CLI, the auditor's HTTP source and the development
server talk to a server on purpose and are not part of it.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import exchange

HTTP_CLIENTS = {
    "httpx",
    "requests",
    "urllib.request",
    "urllib3",
    "http.client",
    "aiohttp",
    "pycurl",
    "socket",
    "ftplib",
    "smtplib",
}
# Clients of a server, by design; never imported by the server.
NOT_THE_SERVER = (
    "client",
    "cli",
    "auditor/http.py",
    "reports/fetch.py",
    "ops/devserver.py",
    "ops/demo.py",
    "ops/receiver.py",  # the demo's webhook receiver: a server of its own, not a client
    "ops/demo_witnesses.py",  # the demo's witnesses and the process that runs one
    "ops/witness_process.py",
    # The guarded way out: webhooks and e-mail, and the DNS look-up of the SSRF check.
    "notify/webhook.py",
    "notify/mail.py",
    "notify/worker.py",
    "services/destinations.py",
    # The other guarded way out: cosignature requests to the witnesses of the operator's
    # policy file (tested in tests/exchange/witness/test_cosigner.py), never to an address
    # a request names; it imports httpx only when it runs.
    "ops/cosigner.py",
    # SQLite's writers wake each other through Unix sockets of this machine's processes,
    # and through nothing else (test_the_writers_queue_talks_only_to_local_processes).
    "storage/writers.py",
)


def _server_modules() -> list[Path]:
    root = Path(exchange.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if not relative.startswith(NOT_THE_SERVER):
            found.append(path)
    return found


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _is_http_client(name: str) -> bool:
    return any(name == client or name.startswith(f"{client}.") for client in HTTP_CLIENTS)


def test_no_server_module_imports_an_http_client():
    modules = _server_modules()
    assert any(p.name == "handoffs.py" for p in modules)
    offenders = {
        str(path): sorted(n for n in _imports(path) if _is_http_client(n)) for path in modules
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_writers_queue_talks_only_to_local_processes():
    path = Path(exchange.__file__).parent / "storage" / "writers.py"
    uses = [
        node
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "socket"
    ]
    assert {n for n in _imports(path) if n.startswith("socket")} == {"socket"}
    # Datagrams between local processes only; MSG_DONTWAIT is a flag, not a destination.
    assert {use.attr for use in uses} == {"socket", "AF_UNIX", "SOCK_DGRAM", "MSG_DONTWAIT"}
    assert _imports(path) & {n for n in HTTP_CLIENTS if n != "socket"} == set()


def test_the_server_imports_none_of_the_client_side():
    """The server's modules do not reach into the SDK, which does fetch."""
    for path in _server_modules():
        imported = _imports(path)
        assert not any(
            n.startswith(
                (
                    "exchange.client",
                    "exchange.cli",
                    "exchange.auditor.http",
                    "exchange.reports.fetch",
                )
            )
            for n in imported
        ), path


def test_the_check_sees_an_http_client_where_there_is_one():
    """The control: the SDK's transport does import one."""
    transport = Path(exchange.__file__).parent / "client" / "transport.py"
    assert any(_is_http_client(n) for n in _imports(transport))


def test_the_running_server_has_no_http_client_loaded(tmp_path):
    """The same, transitively: build the app in a fresh interpreter and look at what got
    imported (flask, werkzeug and the rest included). The standard library's http.client
    and urllib.request are loaded by PyJWT for its JWKS client, which nothing here uses
    (access tokens are checked with the server's own key); no HTTP client package is."""
    script = (
        "import json, sys\n"
        "from exchange import create_app\n"
        f"create_app({{'INSTANCE_PATH': {str(tmp_path)!r}, 'KEY_PASSPHRASE': 'x'}})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    root = Path(exchange.__file__).parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "exchange.api.cases" in loaded
    packages = {"httpx", "requests", "urllib3", "aiohttp", "pycurl"}
    assert sorted(n for n in loaded if n.split(".")[0] in packages) == []
