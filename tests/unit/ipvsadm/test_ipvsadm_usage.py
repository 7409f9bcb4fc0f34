"""The fixed texts (reference §4.4, Appendix A)."""

from __future__ import annotations

from pylvs.ipvsadm.usage import try_help_message, usage_text, version_text


def test_usage_shape() -> None:
    text = usage_text("/sbin/ipvsadm")
    lines = text.splitlines()
    assert len(lines) == 82
    assert text.count("/sbin/ipvsadm") == 13
    assert all(line == line.rstrip() for line in lines)
    assert lines[0] == version_text().rstrip("\n")
    assert "  /sbin/ipvsadm -h" in lines


def test_try_help() -> None:
    assert try_help_message("ipvsadm") == (
        "Try `ipvsadm -h' or 'ipvsadm --help' for more information."
    )
