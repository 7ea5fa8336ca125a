#!/usr/bin/python3
"""Runs one command the way systemd runs a Type=notify service, for machines without systemd.

Usage: service-manager.py --notify-socket PATH --log FILE [--cwd DIR] [--umask OCTAL]
                          [--env NAME=VALUE]... -- COMMAND...

It binds the notification socket (a datagram socket, like systemd's), starts COMMAND with
NOTIFY_SOCKET set, and appends to FILE one line per event: "PID=<pid>" at start, every
notification the service sends ("READY=1", "STOPPING=1", ...), and "EXIT=<code>" when the
service ends (128+N after signal N). SIGTERM sent to this process is passed to the service.

The .NET host recognises a systemd service by the name of its parent process, so this process
names itself "systemd" (prctl PR_SET_NAME) before it starts the service.
"""
import argparse
import ctypes
import os
import select
import signal
import socket
import subprocess
import sys

PR_SET_NAME = 15


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--notify-socket", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--cwd", default="/")
    parser.add_argument("--umask", default="0022")
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command is required after --")

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NAME, b"systemd", 0, 0, 0)

    if os.path.exists(args.notify_socket):
        os.unlink(args.notify_socket)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(args.notify_socket)
    os.chmod(args.notify_socket, 0o666)

    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    for assignment in args.env:
        name, _, value = assignment.partition("=")
        env[name] = value
    env["NOTIFY_SOCKET"] = args.notify_socket
    umask = int(args.umask, 8)

    log = open(args.log, "a", buffering=1)
    child = subprocess.Popen(command, cwd=args.cwd, env=env, preexec_fn=lambda: os.umask(umask))
    log.write(f"PID={child.pid}\n")
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))

    while True:
        readable, _, _ = select.select([notify], [], [], 0.2)
        if readable:
            message = notify.recv(4096).decode("utf-8", "replace")
            for line in message.splitlines():
                log.write(line + "\n")
        code = child.poll()
        if code is not None:
            while select.select([notify], [], [], 0)[0]:
                for line in notify.recv(4096).decode("utf-8", "replace").splitlines():
                    log.write(line + "\n")
            log.write(f"EXIT={code if code >= 0 else 128 - code}\n")
            break
    notify.close()
    os.unlink(args.notify_socket)
    return 0


if __name__ == "__main__":
    sys.exit(main())
