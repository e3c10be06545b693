"""Start-up benchmark of the Config rule Lambda: time from process start to its first
Lambda Runtime API request (GET /2018-06-01/runtime/invocation/next).

A minimal fake Runtime API listens on 127.0.0.1; the script notes the monotonic clock just
before spawning `bootstrap` (so fork/exec is included) and again when the request arrives,
then ends the process. Usage: python3 fake_runtime_api.py BOOTSTRAP [RUNS]
"""
import http.server
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

arrived = threading.Event()
arrival_ns = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path.startswith("/2018-06-01/runtime/invocation/next"):
            arrival_ns[0] = time.monotonic_ns()
            arrived.set()
        # Never answer: the process is killed once the request is seen.
        time.sleep(5)

    def log_message(self, *args):
        pass


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "immutag-config-rule",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/immutag-config-rule",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    })
    samples = []
    for _ in range(runs):
        arrived.clear()
        start = time.monotonic_ns()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ok = arrived.wait(10)
        proc.kill()
        proc.wait()
        if not ok:
            sys.exit("bootstrap made no Runtime API request within 10 s")
        samples.append((arrival_ns[0] - start) / 1e6)
    samples.sort()
    p90 = samples[int(0.9 * (len(samples) - 1))]
    print(f"runs={runs} min={samples[0]:.2f}ms median={statistics.median(samples):.2f}ms p90={p90:.2f}ms max={samples[-1]:.2f}ms")


if __name__ == "__main__":
    main()
