"""How figures read to a person: durations and shares (the JSON keeps the exact numbers)."""


def duration(seconds: float) -> str:
    """'250 ms', '4.5 s', '12 min 5 s', '3 h 20 min', '2 d 4 h': two units at most."""
    whole = round(seconds)
    if 0 < seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10 and whole != seconds:
        return f"{seconds:.1f} s"
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def share(fraction: float) -> str:
    return f"{fraction * 100:.1f} %"
