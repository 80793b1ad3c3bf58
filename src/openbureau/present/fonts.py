"""Whether the machine can draw Chinese names: reports and PDFs print them as empty boxes without a CJK font.

Fontconfig (``fc-list``, which WeasyPrint's Pango uses too) is asked for a font covering Chinese; the answer
is a warning with the package to install, or None when a font is there.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

INSTALL = ("Debian/Ubuntu: sudo apt-get install fonts-noto-cjk (or fonts-wqy-microhei); Fedora: sudo dnf install "
           "google-noto-sans-cjk-fonts; macOS and Windows have one")


@functools.lru_cache(maxsize=1)
def cjk_font_warning() -> str | None:
    """A one-line warning when no font on the machine covers Chinese, None when one does."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return f"fontconfig (fc-list) not found, so Chinese names in reports and PDFs may print as empty boxes ({INSTALL})"
    try:
        found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=10,
                               check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if found:
        return None
    return f"no Chinese (CJK) font found: names in reports and PDFs print as empty boxes ({INSTALL})"
