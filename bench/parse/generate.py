#!/usr/bin/env python3
"""Write a Dockerfile of about 10,000 lines that uses every instruction kind, continuations,
comments inside continuations, JSON and shell forms, ONBUILD and heredocs.

Usage: generate.py OUTPUT [LINES]
"""

from __future__ import annotations

import sys

BLOCK = """\
# syntax=docker/dockerfile:1
ARG BASE=debian:12
FROM --platform=$BUILDPLATFORM ${{BASE}} AS build{n}
LABEL org.opencontainers.image.title="bench {n}" version=1.{n}
MAINTAINER Bench <bench@example.com>
ENV PATH=/usr/local/bin:$PATH LANG=C.UTF-8
ENV LEGACY value with spaces {n}
RUN apt-get update \\
    # a comment inside the continuation
    && apt-get install -y --no-install-recommends \\
        ca-certificates curl git \\
    && rm -rf /var/lib/apt/lists/*
RUN ["/bin/sh", "-c", "echo exec form {n}"]
RUN --mount=type=cache,target=/root/.cache <<EOF
set -e
echo heredoc {n}
EOF
COPY --chown=1000:1000 --chmod=644 src/ /app/src/
COPY <<-EOT /app/config.txt
\tkey=value
\tEOT
ADD --checksum=sha256:0123 https://example.com/file.tar.gz /tmp/
WORKDIR /app
USER 1000:1000
VOLUME ["/data", "/cache"]
EXPOSE 80/tcp 443
ONBUILD RUN echo triggered {n}
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD curl -f http://localhost/ || exit 1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENTRYPOINT ["/app/run"]
CMD ["--serve", "--port=80"]

"""


def main() -> int:
    """Write the generated file."""
    output = sys.argv[1]
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    block_lines = BLOCK.count("\n")
    with open(output, "w", encoding="utf-8") as out:
        for n in range(lines // block_lines):
            out.write(BLOCK.format(n=n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
