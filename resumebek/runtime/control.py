"""The ops control socket: JSON lines over a unix socket in DATA_DIR (owner-only).

Requests and answers are one JSON object per line:
    {"cmd": "status"}                       -> {"ok": true, "pid": 123, "actors": [ActorStatus...]}
    {"cmd": "restart", "actor": "analyzer"} -> {"ok": true, "actor": ActorStatus}
    (stop / start likewise)                 -> {"ok": false, "code": "unknown_actor", "error": "..."}
The server runs inside the supervisor's task group; `request()` is the blocking client
that `resumebek ctl` uses.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import SocketListener, SocketStream, TaskStatus
from anyio.streams.buffered import BufferedByteReceiveStream

from resumebek.errors import AlreadyRunning, ConfigError, ControlUnavailable, UnknownActor

if TYPE_CHECKING:
    from resumebek.runtime.supervisor import ActorStatus, Supervisor

log = logging.getLogger("resumebek.runtime.control")

SOCKET_NAME = "control.sock"
_MAX_LINE = 64 * 1024
_MAX_UNIX_PATH = 107  # sun_path is 108 bytes with the terminating NUL (Linux)
_SETTLE_S = 5.0  # how long a control command waits for the actor to reach its new state


def control_socket_path(data_dir: Path) -> Path:
    """Where the running process listens and where `resumebek ctl` connects."""
    return data_dir / SOCKET_NAME


# ---------------------------------------------------------------- server


async def open_control(path: Path) -> SocketListener:
    """Bind the control socket (owner-only), replacing a stale one from a killed process.

    Raises AlreadyRunning if a live process answers on it, ConfigError if it cannot be used."""
    if len(os.fsencode(path)) > _MAX_UNIX_PATH:
        raise ConfigError("DATA_DIR", f"too long for the control socket (> {_MAX_UNIX_PATH} bytes)")
    _mkdir(path.parent)
    await _clear_stale(path)
    return await anyio.create_unix_listener(path, mode=0o600)


async def serve_control(
    sup: Supervisor,
    listener: SocketListener,
    path: Path,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Answer control requests until cancelled; the socket file is removed on the way out."""
    ours = _inode(path)
    try:
        async with listener:
            log.info("control.listening socket=%s", path.name)
            task_status.started()
            await listener.serve(partial(_serve_client, sup))
    finally:
        if ours is not None and _inode(path) == ours:  # never remove a successor's socket
            _unlink(path)


async def _clear_stale(path: Path) -> None:
    """Remove a socket left by a killed process; refuse if a live process answers on it."""
    try:
        mode = _lstat_mode(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ConfigError("DATA_DIR", f"{path.name} exists and is not a socket")
    try:
        with anyio.fail_after(2):
            stream = await anyio.connect_unix(path)
    except (ConnectionRefusedError, FileNotFoundError):
        _unlink(path)
        log.info("control.stale_socket_removed")
        return
    except TimeoutError:
        pass  # a process that accepts but hangs is still a live owner
    else:
        await stream.aclose()
    raise AlreadyRunning(f"another resumebek process is running with this DATA_DIR ({path})")


# Small local file operations: instant, so they run inline rather than in a thread.
def _mkdir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def _lstat_mode(path: Path) -> int:
    return path.lstat().st_mode


def _inode(path: Path) -> int | None:
    try:
        return path.lstat().st_ino
    except FileNotFoundError:
        return None


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


async def _serve_client(sup: Supervisor, stream: SocketStream) -> None:
    async with stream:
        reader = BufferedByteReceiveStream(stream)
        while True:
            try:
                line = await reader.receive_until(b"\n", _MAX_LINE)
            except (anyio.EndOfStream, anyio.IncompleteRead, anyio.DelimiterNotFound):
                return
            except (anyio.BrokenResourceError, ConnectionError):
                return
            answer = await handle_request(sup, line)
            try:
                await stream.send(json.dumps(answer).encode() + b"\n")
            except (anyio.BrokenResourceError, ConnectionError):
                return


async def handle_request(sup: Supervisor, line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except ValueError:
        return _error("bad_request", "not JSON")
    if not isinstance(request, dict):
        return _error("bad_request", "expected a JSON object")
    cmd = request.get("cmd")
    if cmd == "status":
        return {"ok": True, "pid": os.getpid(), "actors": [s.to_dict() for s in sup.status()]}
    if cmd not in ("restart", "stop", "start"):
        return _error("bad_request", "cmd must be status, restart, stop or start")
    name = request.get("actor")
    if not isinstance(name, str):
        return _error("bad_request", "actor must be a string")
    try:
        if cmd == "restart":
            before = _status_of(sup, name).restarts
            sup.restart(name)
            await sup.wait_state(name, ("running", "failed"), _SETTLE_S, min_restarts=before + 1)
        elif cmd == "stop":
            sup.stop(name)
            await sup.wait_state(name, ("stopped", "failed"), _SETTLE_S)
        else:
            sup.start(name)
            await sup.wait_state(name, ("running",), _SETTLE_S)
    except UnknownActor as exc:
        return _error("unknown_actor", str(exc))
    log.info("control.%s actor=%s", cmd, name)
    return {"ok": True, "actor": _status_of(sup, name).to_dict()}


def _status_of(sup: Supervisor, name: str) -> ActorStatus:
    for st in sup.status():
        if st.name == name:
            return st
    raise UnknownActor(name, sup.names)


def _error(code: str, text: str) -> dict[str, Any]:
    return {"ok": False, "code": code, "error": text}


# ---------------------------------------------------------------- client


def request(path: Path, payload: dict[str, Any], *, timeout_s: float = 15.0) -> dict[str, Any]:
    """Send one request to the running process and return its answer (blocking).

    Raises ControlUnavailable when no process listens on `path`."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        try:
            sock.connect(os.fspath(path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise ControlUnavailable(f"no running resumebek process (no answer on {path})") from exc
        sock.sendall(json.dumps(payload).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ControlUnavailable("the running process closed the control connection")
            buf += chunk
    except TimeoutError as exc:
        raise ControlUnavailable(
            f"the running process did not answer within {timeout_s:g}s"
        ) from exc
    except (BrokenPipeError, ConnectionResetError) as exc:  # it is stopping, or crashed
        raise ControlUnavailable("the running process closed the control connection") from exc
    finally:
        sock.close()
    answer = json.loads(buf)
    if not isinstance(answer, dict):
        raise ControlUnavailable("unexpected answer on the control socket")
    return answer
