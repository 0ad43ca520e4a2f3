"""Vietnamese enterprise codes (mã số thuế, MST): the anchor of a firm's identity.

An enterprise code is 10 digits, the last a check digit over the first nine; a branch
(chi nhánh) or dependent unit has 13, its head office's 10 and a 3-digit suffix written after
a dash (``0100233488-001``). The check is python-stdnum's (:mod:`stdnum.vn.mst`), not ours.

A branch keeps its own identity: it is linked to its head office through :attr:`TaxCode.head`,
never merged into it.
"""

from __future__ import annotations

from dataclasses import dataclass

from stdnum import exceptions as stdnum_errors
from stdnum.vn import mst

__all__ = ["TaxCode", "parse_tax_code", "valid_tax_code"]


@dataclass(frozen=True)
class TaxCode:
    """A tax code as read, with what can be said of it.

    Attributes
    ----------
    text : str
        The code as given.
    digits : str
        The digits only (separators removed): 10 or 13 of them when well formed.
    head : str
        The head office's 10-digit code (the first ten digits), or ``""`` when malformed.
    branch : str
        The 3-digit branch suffix, ``""`` for a head office.
    problem : str
        Why the code fails the check (``""`` when it passes).
    """

    text: str
    digits: str
    head: str
    branch: str
    problem: str

    @property
    def valid(self) -> bool:
        return not self.problem

    @property
    def formatted(self) -> str:
        """The code written the usual way (``0100233488`` or ``0100233488-001``)."""
        if not self.head:
            return self.text
        return f"{self.head}-{self.branch}" if self.branch else self.head


def parse_tax_code(text: str) -> TaxCode:
    """Read a mã số thuế: its head office code, branch suffix and any problem.

    Parameters
    ----------
    text : str
        The code as written in a list: spaces, dots and a dash before the branch suffix are
        allowed.

    Returns
    -------
    TaxCode
        With ``problem`` naming what is wrong: length, a non-digit, a zero sequence number, a
        ``000`` branch suffix, or the check digit.

    Examples
    --------
    >>> parse_tax_code("0100233488").valid
    True
    >>> code = parse_tax_code("0314409058-002")
    >>> code.head, code.branch, code.formatted
    ('0314409058', '002', '0314409058-002')
    >>> parse_tax_code("0100233480").problem
    'check digit 0 should be 8'
    >>> parse_tax_code("12345").problem
    'has 5 digits, not 10 (or 13 for a branch)'
    """
    digits = mst.compact(text)
    head = digits[:10] if len(digits) in (10, 13) and digits.isdigit() else ""
    branch = digits[10:] if head else ""
    try:
        mst.validate(digits)
        problem = ""
    except stdnum_errors.InvalidLength:
        problem = f"has {len(digits)} digits, not 10 (or 13 for a branch)"
    except stdnum_errors.InvalidFormat:
        problem = "holds characters other than digits"
    except stdnum_errors.InvalidChecksum:
        problem = f"check digit {digits[9]} should be {mst.calc_check_digit(digits)}"
    except stdnum_errors.InvalidComponent:
        problem = (
            "branch suffix 000 is not a branch" if branch == "000" else "sequence number is zero"
        )
    return TaxCode(text, digits, head, branch, problem)


def valid_tax_code(prefix: str) -> str:
    """A valid 10-digit code from a 9-digit prefix: the prefix (moved on by one while its
    check digit would be 10, which no code has) and its check digit. For generated worlds.

    Examples
    --------
    >>> valid_tax_code("010023348")
    '0100233488'
    """
    number = int(prefix)
    while (check := mst.calc_check_digit(f"{number:09d}")) == "10" or f"{number:09d}"[
        2:
    ] == "0000000":
        number += 1
    return f"{number:09d}{check}"
