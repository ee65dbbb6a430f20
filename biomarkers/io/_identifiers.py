"""The direct-identifier check of subject tables: column names and, where cheap, values.

A column name is normalised (camelCase split, NFKC, lower-cased, every separator dropped:
``PatientName``, ``patient_name``, ``Patient.Name`` and ``PATIENT NAME`` all become
``patientname``) and compared with a vocabulary of direct identifiers: names, dates of birth,
social security / national ID numbers (Aadhaar, ABHA, NHS number, passport), MRN, phone, e-mail,
address, postcode. Text values are sampled for obvious patterns: e-mail addresses, 12-digit
Aadhaar numbers (Verhoeff check digit) and 14-digit ABHA numbers (``NN-NNNN-NNNN-NNNN``).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from biomarkers.exceptions import SchemaError

__all__ = ["check_identifiers", "is_identifier_column", "normalise_column_name"]

#: the whole normalised name is one of these (short or common words)
_EXACT = frozenset(
    {
        "name", "names", "initials", "dob", "ssn", "mrn", "phone", "telephone", "mobile", "tel",
        "email", "address", "zip", "zipcode", "postcode", "postalcode",
        "abha", "nhs", "nhsno", "uhid", "aadhaar", "aadhar", "passport", "birthday",
    }
)  # fmt: skip
#: the normalised name contains one of these (long, unambiguous)
_CONTAINS = (
    "patientname", "fullname", "firstname", "lastname", "givenname", "familyname", "surname",
    "maidenname", "middlename", "dateofbirth", "birthdate", "socialsecurity", "nationalid",
    "nationalinsurance", "aadhaar", "aadhar", "abhanumber", "abhaid", "abhaaddress", "healthid",
    "nhsnumber", "passport", "telephone", "phonenumber", "mobilenumber", "mobilephone",
    "cellphone", "homephone", "emailaddress", "email", "postcode", "zipcode", "postalcode",
    "streetaddress", "homeaddress", "medicalrecord", "hospitalnumber", "driverslicen",
    "drivinglicen",
)  # fmt: skip
#: one of the words of the name is one of these
_WORDS = frozenset({"ssn", "mrn", "dob", "aadhaar", "aadhar", "abha", "passport", "email"})

# an e-mail address, not a feature name: the single-home scan of name parsers looks for literal
# "@" regexes in calls, and this pattern is deliberately outside the feature-name grammar
_EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_EMAIL = re.compile(_EMAIL_PATTERN)
_AADHAAR = re.compile(r"[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}")
_ABHA = re.compile(r"\d{2}-\d{4}-\d{4}-\d{4}")
_SAMPLE = 200

# Verhoeff tables (the Aadhaar check digit)
_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]  # fmt: skip
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]  # fmt: skip


def _words(name: object) -> list[str]:
    text = unicodedata.normalize("NFKC", str(name)).strip()
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def normalise_column_name(name: object) -> str:
    """``PatientName``, ``patient_name``, ``Patient.Name`` → ``patientname``."""
    return "".join(_words(name))


def is_identifier_column(name: object) -> bool:
    """Whether a column named ``name`` looks like a direct identifier."""
    joined = normalise_column_name(name)
    return (
        joined in _EXACT
        or any(word in joined for word in _CONTAINS)
        or bool(_WORDS.intersection(_words(name)))
    )


def _verhoeff_ok(digits: str) -> bool:
    check = 0
    for i, d in enumerate(reversed(digits)):
        check = _D[check][_P[i % 8][int(d)]]
    return check == 0


def _value_kind(values: pd.Series) -> str | None:
    """What most sampled text values of a column look like (e-mail, Aadhaar, ABHA), if any."""
    sample = values.dropna().astype(str).str.strip().head(_SAMPLE)
    sample = sample[sample != ""]
    if sample.empty:
        return None
    half = len(sample) / 2
    if sample.map(lambda v: _EMAIL.fullmatch(v) is not None).sum() >= half:
        return "e-mail addresses"
    if sample.map(lambda v: _ABHA.fullmatch(v) is not None).sum() >= half:
        return "ABHA numbers (14 digits)"
    aadhaar = sample.map(
        lambda v: _AADHAAR.fullmatch(v) is not None and _verhoeff_ok(re.sub(r"\D", "", v))
    )
    if aadhaar.sum() >= half:
        return "Aadhaar numbers (12 digits)"
    return None


def check_identifiers(df: pd.DataFrame, *, source: str, allow: bool) -> None:
    """Refuse direct identifiers: by column name (any spelling) or by obvious values.

    Raises
    ------
    SchemaError
        Naming the columns (never their values) and how to proceed.
    """
    if allow:
        return
    found = [c for c in df.columns if is_identifier_column(c)]
    if found:
        msg = (
            f"{source}: column(s) {', '.join(map(repr, found))} look like direct patient "
            "identifiers; remove them from the file (pseudonymise) or pass allow_identifiers=True"
        )
        raise SchemaError(msg)
    for col in df.columns:
        if df[col].dtype == object and (kind := _value_kind(df[col])) is not None:
            msg = (
                f"{source}: column {col!r} holds values that look like {kind}, direct patient "
                "identifiers; remove them (pseudonymise) or pass allow_identifiers=True"
            )
            raise SchemaError(msg)
