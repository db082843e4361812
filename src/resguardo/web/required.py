"""Required fields marked on every form, the same way, without each template doing it.

In a form that mixes required and optional fields, the label of each required one gets an
asterisk after its text, and the form opens with a note saying what the asterisk means.
The asterisk is drawn by the style sheet and hidden from screen readers (they announce
the control's ``required`` attribute, which is what makes it required: the browser refuses to send the form
without it, and the server checks again). A form whose fields are all required (sign-in,
the desk's one scan) gets no marks: there is nothing to tell apart.

Works on the rendered page: a label is marked when the first control inside it carries
``required``; a control labelled from elsewhere (``<label for>``) is left as it is.
"""

from __future__ import annotations

import re

_FORM = re.compile(r"(<form\b[^>]*>)(.*?)(</form>)", re.S | re.I)
_CONTROL = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.S | re.I)
_REQUIRED = re.compile(r"\srequired(?=[\s=/>]|$)", re.I)
_UNSEEN = re.compile(r"""\stype\s*=\s*["']?(hidden|submit|button|reset|image)\b""", re.I)
#: A label whose text comes first (then hints, then its control).
_LABEL = re.compile(r"(<label\b[^>]*>)([^<]*[^<\s])(\s*)((?:(?!</label>).)*?</label>)",
                    re.S | re.I)
#: Empty: the asterisk is drawn by the style sheet (``.required::before``), so that the
#: label's text, which tools and scripts match, stays the field's name.
MARK = '<span class="required" aria-hidden="true"></span>'


def _seen(control: re.Match[str]) -> bool:
    return not _UNSEEN.search(control.group(2))


def _required(control: re.Match[str]) -> bool:
    return bool(_REQUIRED.search(control.group(2)))


def _label(found: re.Match[str]) -> str:
    start, text, space, rest = found.groups()
    control = _CONTROL.search(rest)
    if control is None or not _seen(control) or not _required(control):
        return found.group(0)
    # the text and its mark as one piece: a label lays its children out on a grid
    return f'{start}<span class="label-text">{text}{MARK}</span>{space}{rest}'


def mark(html: str, note: str) -> str:
    """The page with its forms' required fields marked; ``note`` says what * means."""
    def form(found: re.Match[str]) -> str:
        start, body, end = found.groups()
        controls = [c for c in _CONTROL.finditer(body) if _seen(c)]
        required = sum(1 for c in controls if _required(c))
        if not required or required == len(controls):
            return found.group(0)
        marked = _LABEL.sub(_label, body)
        if marked == body:
            return found.group(0)
        return (f'{start}<p class="hint required-note">{MARK} {note}</p>{marked}{end}')
    return _FORM.sub(form, html)
