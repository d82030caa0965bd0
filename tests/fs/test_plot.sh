#!/bin/sh
# plot.svg on a mount: listed, readable before the spec, well-formed SVG 1.1
# (python3's xml module) after a run, and rendered by headless Chromium into
# a non-blank screenshot of the SVG's own size. The screenshot part is
# skipped (exit 77, after the other checks passed) only when
# /usr/bin/chromium is absent and cannot be installed.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mount_fs

E=$MNT/plotted
mkdir "$E" || fail "mkdir"
ls "$E" | grep -qx plot.svg || fail "plot.svg not listed: $(ls "$E" | tr '\n' ' ')"
[ "$(stat -c %a "$E/plot.svg")" = 444 ] || fail "plot.svg mode $(stat -c %a "$E/plot.svg")"
grep -q 'write a Katib Experiment to spec.yaml' "$E/plot.svg" ||
	fail "plot.svg before the spec: $(cat "$E/plot.svg")"
expect_fail "write plot.svg" "Permission denied" sh -c "echo x > '$E/plot.svg'"

spec_yaml "$QUICK" 6 2 >"$E/spec.yaml" || fail "spec"
wait_state plotted Succeeded 60
cp "$E/plot.svg" "$TMP/plot.svg" || fail "read plot.svg"
[ "$(stat -c %s "$E/plot.svg")" = "$(stat -c %s "$TMP/plot.svg")" ] ||
	fail "st_size $(stat -c %s "$E/plot.svg") is not the size read $(stat -c %s "$TMP/plot.svg")"

# Well-formed, SVG 1.1, the size announced, both panels, the metric.
python3 - "$TMP/plot.svg" >"$TMP/size" <<'EOF' || fail "plot.svg does not parse: $(head -c 2000 "$TMP/plot.svg")"
import sys
import xml.dom.minidom

doc = xml.dom.minidom.parse(sys.argv[1])
svg = doc.documentElement
assert svg.tagName == "svg", svg.tagName
assert svg.getAttribute("xmlns") == "http://www.w3.org/2000/svg"
assert svg.getAttribute("version") == "1.1"
w, h = int(svg.getAttribute("width")), int(svg.getAttribute("height"))
assert svg.getAttribute("viewBox") == "0 0 %d %d" % (w, h)
texts = " ".join(t.firstChild.data for t in doc.getElementsByTagName("text")
                 if t.firstChild)
assert "loss per trial (minimize)" in texts, texts
assert "Succeeded 6" in texts, texts
assert "lr" in texts and "layers" in texts, texts
assert len(doc.getElementsByTagName("circle")) >= 6
assert len(doc.getElementsByTagName("polyline")) >= 7  # best + 6 lines
print(w, h)
EOF
read -r W H <"$TMP/size"
[ "$W" = 800 ] && [ "$H" -gt 400 ] || fail "plot size ${W}x$H"

# Jupyter's IPython.display.SVG takes it as it is, where IPython exists.
if /usr/bin/python3 -c 'import IPython' 2>/dev/null; then
	/usr/bin/python3 -c '
import sys
from IPython.display import SVG
s = SVG(filename=sys.argv[1])
assert "<svg" in s._repr_svg_()
' "$E/plot.svg" || fail "IPython.display.SVG rejects plot.svg"
fi

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" -eq 0 ]; then
	sh "$ROOT/scripts/deps.sh" notebook >"$TMP/deps.log" 2>&1
fi
if [ ! -x /usr/bin/chromium ]; then
	echo "plot.svg checks passed; skip: the screenshot needs /usr/bin/chromium (apt-get install chromium, or sh scripts/deps.sh notebook as root)"
	exit 77
fi

# Render it like a browser would and look at the pixels.
PROFILE=$(mktemp -d "$TMP/chromium.XXXXXX")
timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu \
	--disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --hide-scrollbars \
	--user-data-dir="$PROFILE" --screenshot="$TMP/plot.png" \
	--window-size="$W,$H" "file://$TMP/plot.svg" >"$TMP/chromium.log" 2>&1
[ -s "$TMP/plot.png" ] || fail "no screenshot: $(tail -n 5 "$TMP/chromium.log")"
python3 - "$TMP/plot.png" "$W" "$H" <<'EOF' || fail "screenshot check"
import struct
import sys
import zlib


def pixels(path):
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG: (w, h, rows)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and not interlace, (depth, ctype)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows


w, h, rows = pixels(sys.argv[1])
want = (int(sys.argv[2]), int(sys.argv[3]))
assert (w, h) == want, "screenshot is %dx%d, expected %dx%d" % (w, h, *want)
flat = [p for row in rows for p in row]
ink = sum(1 for p in flat if p != (255, 255, 255))
colours = len(set(flat))
assert ink > 0.01 * len(flat), "blank: %d non-white pixels" % ink
assert colours > 20, "only %d colours" % colours


def near(p, q, tol=40):
    return all(abs(x - y) <= tol for x, y in zip(p, q))


# Succeeded points (#1f77b4) in the top panel, lines in the bottom one.
top = [p for row in rows[:h // 2] for p in row]
bottom = [p for row in rows[h // 2:] for p in row]
assert any(near(p, (0x1f, 0x77, 0xb4)) for p in top), "no Succeeded points drawn"
assert sum(1 for p in bottom if p != (255, 255, 255)) > 0.01 * len(bottom), "empty panel"
print("screenshot %dx%d, %d%% ink, %d colours" % (w, h, 100 * ink // len(flat), colours))
EOF
exit 0
