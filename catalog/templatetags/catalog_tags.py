from django import template

from catalog.models import KEY_NAMES

register = template.Library()


@register.filter
def key_name(pitch_class: int | None) -> str:
    """Spotify's pitch class (0 = C … 11 = B, -1 = none detected) as a note name."""
    if pitch_class is None:
        return ""
    return KEY_NAMES[pitch_class] if 0 <= pitch_class < len(KEY_NAMES) else "none detected"


@register.filter
def duration(milliseconds: int | None) -> str:
    """3:07 for 187000 ms; 1:02:05 past an hour."""
    if milliseconds is None:
        return ""
    seconds = int(milliseconds) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
