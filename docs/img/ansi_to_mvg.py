#!/usr/bin/env python3
"""Turns a terminal screen captured with `tmux capture-pane -e -p` (text with SGR colour codes)
into ImageMagick drawing commands (MVG): a filled rectangle per background run and each character
at its cell of a fixed grid, one screen row per output line (each line one `-draw` argument: the
usual security policy forbids reading an MVG file). Used by docs/img/watch-screenshot.sh.

    python3 ansi_to_mvg.py COLUMNS ROWS CELL_W CELL_H < screen.ansi > screen.rows
"""
import re
import sys

# xterm's 16 colours on a dark background.
BASE = ["#1e1e1e", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
        "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"]
FG, BG = "#d4d4d4", "#1e1e1e"


def xterm256(n):
    if n < 16:
        return BASE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return "#%02x%02x%02x" % (v, v, v)


def apply_sgr(params, st):
    codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            st.update(fg=None, bg=None, bold=False, rev=False, dim=False)
        elif c == 1:
            st["bold"] = True
        elif c == 2:
            st["dim"] = True
        elif c == 22:
            st["bold"] = st["dim"] = False
        elif c == 7:
            st["rev"] = True
        elif c == 27:
            st["rev"] = False
        elif 30 <= c <= 37:
            st["fg"] = BASE[c - 30]
        elif 90 <= c <= 97:
            st["fg"] = BASE[c - 90 + 8]
        elif 40 <= c <= 47:
            st["bg"] = BASE[c - 40]
        elif 100 <= c <= 107:
            st["bg"] = BASE[c - 100 + 8]
        elif c == 39:
            st["fg"] = None
        elif c == 49:
            st["bg"] = None
        elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
            st["fg" if c == 38 else "bg"] = xterm256(codes[i + 2])
            i += 2
        elif c in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
            st["fg" if c == 38 else "bg"] = "#%02x%02x%02x" % tuple(codes[i + 2:i + 5])
            i += 4
        i += 1


def cells(line, st):
    """(character, fg, bg, bold) for each column of one captured line. `st` carries the style on
    from the line before: tmux writes a style only where it changes."""
    out = []
    for m in re.finditer(r"\x1b\[([0-9;]*)m|(.)", line):
        if m.group(1) is not None or m.group(2) is None:
            apply_sgr(m.group(1), st)
            continue
        fg, bg = st["fg"] or FG, st["bg"] or BG
        if st["rev"]:
            fg, bg = bg, fg
        out.append((m.group(2), fg, bg, st["bold"]))
    return out


def main():
    cols, rows, cw, ch = (int(a) for a in sys.argv[1:5])
    lines = sys.stdin.read().split("\n")[:rows]
    st = dict(fg=None, bg=None, bold=False, rev=False, dim=False)
    for y, line in enumerate(lines):
        out = ["font-size %d" % round(ch * 0.8)]
        row = cells(line, st)[:cols]
        x = 0
        while x < len(row):
            # A run of cells with the same style.
            end = x
            while end < len(row) and row[end][1:] == row[x][1:]:
                end += 1
            _, fg, bg, bold = row[x]
            if bg != BG:
                out.append("fill '%s' rectangle %d,%d %d,%d" % (bg, x * cw, y * ch, end * cw - 1, (y + 1) * ch - 1))
            text = "".join(c for c, *_ in row[x:end])
            if text.strip():
                for i, c in enumerate(text):
                    if c == " ":
                        continue
                    esc = c.replace("\\", "\\\\").replace("'", "\\'")
                    font = "DejaVu-Sans-Mono-Bold" if bold else "DejaVu-Sans-Mono"
                    out.append("font '%s' fill '%s' text %d,%d '%s'" % (font, fg, (x + i) * cw, y * ch + round(ch * 0.78), esc))
            x = end
        print(" ".join(out))


main()
