"""Client trust stores for RDS: read a bundle or store, classify its certificates, build stores, verify chains.

By role: ``entries`` (one certificate, classified), ``parse`` (reading every store format), ``download`` (AWS's
bundles), ``contents`` (what a store holds against what clients need), ``write`` (choosing, serialising and writing a
store) and ``verify`` (a chain against a store). This face re-exports them.

Parsing and PKCS#12 are ``cryptography``'s (``serialize_java_truststore`` writes the trusted-certificate
attribute Java's PKCS12 KeyStore needs to see an entry as trusted); JKS is ``jks`` (OpenJDK's format, trusted
certificates only: the tests check it against purejks). Everything here is pure except
``write_store``/``download``; dates are judged against ``today``.
"""

from rdsca.chains import common_name, issued_by
from rdsca.truststore import aws_roots
from rdsca.truststore.contents import summary, unmet
from rdsca.truststore.download import BASE_URL, base_url_for, download, is_aws_host
from rdsca.truststore.entries import OTHER, Entry, TruststoreError, classify, family_of, order
from rdsca.truststore.parse import load, needs_password, read
from rdsca.truststore.verify import Verification, verify
from rdsca.truststore.write import (
    FORMATS,
    SUFFIXES,
    aliases,
    foreign,
    format_for,
    read_back,
    select,
    serialize,
    target_of,
    write_store,
)

__all__ = [
    "BASE_URL",
    "FORMATS",
    "OTHER",
    "SUFFIXES",
    "Entry",
    "TruststoreError",
    "Verification",
    "aliases",
    "aws_roots",
    "base_url_for",
    "classify",
    "common_name",
    "download",
    "family_of",
    "foreign",
    "format_for",
    "is_aws_host",
    "issued_by",
    "load",
    "needs_password",
    "order",
    "read",
    "read_back",
    "select",
    "serialize",
    "summary",
    "target_of",
    "unmet",
    "verify",
    "write_store",
]
