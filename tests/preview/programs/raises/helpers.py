"""A helper that rejects its input, as a component validating its args would."""


def subnet_count(az_count: int) -> int:
    if az_count < 2:
        raise ValueError(f"azCount must be at least 2 for an ALB, got {az_count}")
    return az_count * 2
