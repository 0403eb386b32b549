from django import template

register = template.Library()


@register.filter
def duration(milliseconds: int | None) -> str:
    """3:07 for 187000 ms; 1:02:05 past an hour."""
    if milliseconds is None:
        return ""
    seconds = int(milliseconds) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
