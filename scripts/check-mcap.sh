#!/usr/bin/env bash
# Reads MCAP files with the official MCAP Python library (PyPI `mcap`), validating every CRC, both
# with the index (SeekingReader) and front to back (NonSeekingReader): an outside check that the
# project's writer follows the specification. Installs the library into a private venv on first use,
# with `zstandard`, which it decompresses zstd chunks with (pinned here, not left to mcap's own
# unpinned dependency: a recording's chunks are zstd).
#
#   scripts/check-mcap.sh FILE.mcap...
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: scripts/check-mcap.sh FILE.mcap..." >&2; exit 64; }
PYTHON=$("$(dirname "$0")/python-venv.sh" mcap "mcap==1.6.0" "zstandard==0.25.0")
"$PYTHON" - "$@" <<'PY'
import sys
from mcap.reader import SeekingReader, NonSeekingReader
failed = False
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as f:
            reader = SeekingReader(f, validate_crcs=True)
            summary = reader.get_summary()
            indexed = sum(1 for _ in reader.iter_messages())
        with open(path, "rb") as f:
            streamed = sum(1 for _ in NonSeekingReader(f, validate_crcs=True).iter_messages())
        stats = summary.statistics
        ok = indexed == streamed == stats.message_count
        topics = {c.topic: stats.channel_message_counts.get(c.id, 0) for c in summary.channels.values()}
        compressions = ",".join(sorted({index.compression or "none" for index in summary.chunk_indexes})) or "none"
        print(f"{path}: {'ok' if ok else 'MISMATCH'}: {stats.message_count} messages, {stats.chunk_count} chunks ({compressions}), {topics}")
        failed |= not ok
    except Exception as error:  # the library's own message says what is wrong
        print(f"{path}: INVALID: {error}")
        failed = True
sys.exit(1 if failed else 0)
PY
