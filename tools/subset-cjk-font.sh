#!/usr/bin/env bash
# Regenerate the embedded chart fonts assets/fonts/GridgovSansCJKsc-{Regular,Bold}.otf
#
# They are subsets of "Noto Sans CJK SC" (SIL OFL 1.1), taken from the Debian
# package fonts-noto-cjk. The subsets cover ASCII, Latin-1 Supplement, a few chart
# symbols, CJK punctuation, full-width forms and all 6,763 GB2312 hanzi (plus a
# short list of gridgov terms that must always be there). The family is renamed
# to "GridgovSans CJK SC" because the files are Modified Versions under the OFL.
# See assets/fonts/README.md.
#
# Usage:  tools/subset-cjk-font.sh            (from anywhere; run as root or with sudo)
# Env:    OUT_DIR            output directory   (default: <repo>/assets/fonts)
#         PYTHON             python interpreter (default: python3)
#         FONTTOOLS_VERSION  fontTools to pin   (default: 4.68.0)
#
# Idempotent: apt/pip run only if something is missing, and the output is
# byte-for-byte the same for the same inputs (no timestamps are rewritten).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${OUT_DIR:-$REPO_ROOT/assets/fonts}"
PYTHON="${PYTHON:-python3}"
FONTTOOLS_VERSION="${FONTTOOLS_VERSION:-4.68.0}"
NOTO_DIR=/usr/share/fonts/opentype/noto
SRC_FAMILY="Noto Sans CJK SC"
WEIGHTS=(Regular Bold)

# Code points besides the GB2312 hanzi (which the helper enumerates itself):
#   ASCII; Latin-1 Supplement (incl. ° × · ± ² ³ µ ¥ NBSP); – — ‘ ’ “ ” … ‰ ≤ ≥ ← ↑ → ↓;
#   CJK Symbols and Punctuation; full-width ASCII forms.
UNICODES="U+0020-007E,U+00A0-00FF,U+2013,U+2014,U+2018,U+2019,U+201C,U+201D,U+2026,U+2030,U+2190-2193,U+2264,U+2265,U+3000-303F,U+FF01-FF5E"
# Always included, whatever the charset says (gridgov chart vocabulary).
FORCED_TEXT="网格社区街道区诉求量响应率解决率满意率综合成绩排名结案率按期超期未处置时长签约率万人比密度红黑榜其他月份目标线累计阈值达标分级无数据件小时中位数项目部门类别来源渠道热线巡查上报吹哨报到"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# 1. Source font: Debian package fonts-noto-cjk (Regular + Bold TTCs).
if ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'install ok installed'; then
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-noto-cjk
fi
echo "fonts-noto-cjk $(dpkg-query -W -f='${Version}' fonts-noto-cjk)"

# 2. fontTools (pinned, so the output is reproducible).
if [ "$("$PYTHON" -c 'import fontTools; print(fontTools.version)' 2>/dev/null || true)" != "$FONTTOOLS_VERSION" ]; then
  "$PYTHON" -m pip install "fonttools==$FONTTOOLS_VERSION"
fi
echo "fontTools $("$PYTHON" -c 'import fontTools; print(fontTools.version)')"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/helper.py" <<'PY'
"""Helper for tools/subset-cjk-font.sh: extract, charset, ofl, rename, verify."""
import sys

from fontTools.ttLib import TTCollection, TTFont

OLD_FAMILY, NEW_FAMILY = "Noto Sans CJK SC", "GridgovSans CJK SC"
OLD_PS, NEW_PS = "NotoSansCJKsc", "GridgovSansCJKsc"
RENAMED_IDS = (1, 3, 4, 6, 16)


def gb2312_hanzi():
    """All 6,763 GB2312 hanzi: rows 0xB0-0xF7, cells 0xA1-0xFE (row 0xD7 stops at 0xF9)."""
    out = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    assert len(out) == 6763, len(out)
    return out


def extract(ttc_path, family, out_path):
    """Save the face of a TTC whose name ID 1 is `family` as a standalone OTF."""
    coll = TTCollection(ttc_path, recalcTimestamp=False)
    hits = [i for i, f in enumerate(coll.fonts) if f["name"].getDebugName(1) == family]
    if len(hits) != 1:
        sys.exit(f"{ttc_path}: expected one face named {family!r}, found indices {hits}")
    font = coll.fonts[hits[0]]
    print(f"  {ttc_path} index {hits[0]}: {font['name'].getDebugName(4)}, {font['name'].getDebugName(5)}")
    font.save(out_path)


def charset(forced, out_path):
    chars = sorted(set(gb2312_hanzi()) | set(forced))
    with open(out_path, "w", encoding="utf-8") as fh:
        fh.write("".join(chars))


def ofl(copyright_path, out_path):
    """Write the SIL-1.1 licence paragraph of a Debian (DEP-5) copyright file as plain
    text: drop the one-space field indent and turn the "." blank-line markers back into
    blank lines. Nothing else is changed."""
    with open(copyright_path, encoding="utf-8") as fh:
        paragraphs = fh.read().split("\n\n")
    body = [p.split("\n") for p in paragraphs if p.startswith("License: SIL-1.1\n")]
    if len(body) != 1:
        sys.exit(f"{copyright_path}: expected one 'License: SIL-1.1' text paragraph")
    lines = [ln[1:] for ln in body[0][1:] if ln.strip()]
    text = "\n".join("" if ln == "." else ln for ln in lines) + "\n"
    if "SIL OPEN FONT LICENSE Version 1.1" not in text:
        sys.exit("licence text not recognised")
    with open(out_path, "w", encoding="utf-8") as fh:
        fh.write(text)


def rename(path, weight):
    font = TTFont(path, recalcTimestamp=False)
    name = font["name"]
    for rec in name.names:
        if rec.nameID in RENAMED_IDS:
            text = rec.toUnicode().replace(OLD_FAMILY, NEW_FAMILY).replace(OLD_PS, NEW_PS)
            if rec.nameID == 3:  # unique ID: drop the upstream vendor tags
                text = f"{font['head'].fontRevision:.3f};GRGV;{NEW_PS}-{weight}"
            rec.string = text
        elif rec.nameID == 5:
            rec.string = rec.toUnicode() + "; gridgov subset (ASCII+Latin-1+GB2312)"
    # The CFF table in the upstream TTC is shared by all faces, so its names say "JP".
    cff = font["CFF "].cff
    top = cff[0]
    old_ps = cff.fontNames[0]
    cff.fontNames[0] = f"{NEW_PS}-{weight}"
    top.FamilyName = NEW_FAMILY
    top.FullName = name.getDebugName(4)
    for fd in getattr(top, "FDArray", []):
        fd.FontName = fd.FontName.replace(old_ps, cff.fontNames[0])
    font.save(path)


def verify(path, forced):
    font = TTFont(path)
    cmap = font.getBestCmap()
    must = set(forced) | set(gb2312_hanzi()) | set("A0%")
    must |= {chr(c) for c in range(0x20, 0x7F)}
    must |= set("°×·±–—‘’“”…‰≥≤→↑↓，。、：；（）《》【】％")
    missing = sorted(c for c in must if ord(c) not in cmap)
    if missing:
        sys.exit(f"{path}: missing {len(missing)} characters: {''.join(missing[:50])}")
    bad = [r.toUnicode() for r in font["name"].names
           if r.nameID in RENAMED_IDS and ("Noto" in r.toUnicode())]
    if bad or "Noto" in font["CFF "].cff.fontNames[0]:
        sys.exit(f"{path}: upstream name left in primary font names: {bad}")
    print(f"  {path}: family {font['name'].getDebugName(1)!r}, "
          f"{len(font.getGlyphOrder())} glyphs, {len(cmap)} code points")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"extract": extract, "charset": charset, "ofl": ofl, "rename": rename,
     "verify": verify}[cmd](*args)
PY

helper() { "$PYTHON" "$WORK/helper.py" "$@"; }

helper charset "$FORCED_TEXT" "$WORK/text.txt"
mkdir -p "$OUT_DIR"

# The package ships no separate OFL file; its licence text is the SIL-1.1 paragraph
# of the Debian copyright file (upstream LICENSE, per the package changelog).
helper ofl /usr/share/doc/fonts-noto-cjk/copyright "$WORK/OFL.txt"
cp "$WORK/OFL.txt" "$OUT_DIR/OFL.txt.tmp"
mv -f "$OUT_DIR/OFL.txt.tmp" "$OUT_DIR/OFL.txt"
echo "wrote $OUT_DIR/OFL.txt"

for weight in "${WEIGHTS[@]}"; do
  ttc="$NOTO_DIR/NotoSansCJK-$weight.ttc"
  if [ ! -f "$ttc" ]; then
    echo "skip $weight: $ttc not found" >&2
    continue
  fi
  echo "== $weight"
  # 3. Pull the Simplified Chinese face out of the collection (found by family name).
  helper extract "$ttc" "$SRC_FAMILY" "$WORK/src-$weight.otf"
  # 4. Subset (this is pyftsubset). No hinting; keep only kern/palt layout features
  #    (the default feature set drags in thousands of locl/vert alternates; plotters
  #    does no shaping anyway). Subroutines are kept: desubroutinizing made it larger.
  "$PYTHON" -m fontTools.subset "$WORK/src-$weight.otf" \
    --text-file="$WORK/text.txt" \
    --unicodes="$UNICODES" \
    --layout-features='kern,palt' \
    --no-hinting \
    --name-IDs='*' --name-languages='*' \
    --output-file="$WORK/out-$weight.otf"
  # 5. Rename (OFL: Modified Version gets its own family name), then check coverage.
  helper rename "$WORK/out-$weight.otf" "$weight"
  helper verify "$WORK/out-$weight.otf" "$FORCED_TEXT"
  dest="$OUT_DIR/GridgovSansCJKsc-$weight.otf"
  cp "$WORK/out-$weight.otf" "$dest.tmp"
  mv -f "$dest.tmp" "$dest"
  echo "  wrote $dest ($(stat -c %s "$dest") bytes, sha256 $(sha256sum "$dest" | cut -d' ' -f1))"
done
