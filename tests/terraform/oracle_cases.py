"""Generated expressions for the Terraform oracle (tests/terraform/test_oracle.py): every string, number and
collection function rdsca implements over typical and edge inputs, operators, conditionals, ``for`` and splat
expressions, templates and type conversions. Every case is one Terraform evaluates without error."""

from __future__ import annotations

import json

STRINGS = ["rds-ca-2019", "RDS-CA-rsa2048-G1", "  padded  ", "", "a,b,,c", "ünï-cödé"]
#: (``1e3``: rdsca's HCL parser refuses exponent literals, a known limit in the README.)
NUMBERS = ["0", "1", "-1", "2.5", "1024", "-7.75"]
LISTS = ['[]', '["a"]', '["b", "a", "b"]', '["x", "", "rds-ca-2019"]']
MAPS = ['{}', '{a = "1"}', '{b = "rds-ca-2019", a = "x"}']

STRING_UNARY = ["upper", "lower", "title", "trimspace", "strrev", "chomp", "length", "base64encode", "urlencode",
                "md5", "sha1", "sha256", "sha512", "jsonencode", "tostring", "nonsensitive(sensitive"]
NUMBER_UNARY = ["abs", "ceil", "floor", "tostring", "jsonencode"]
LIST_UNARY = ["length", "reverse", "sort", "distinct", "compact", "jsonencode", "toset", "tolist"]


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def cases() -> list[str]:
    out: list[str] = []
    for s in STRINGS:
        q = _q(s)
        for f in STRING_UNARY:
            out.append(f"{f}({q}))" if f.startswith("nonsensitive") else f"{f}({q})")
        out += [
            f'split("-", {q})', f'split(",", {q})', f'replace({q}, "-", "_")', f'join("/", split("-", {q}))',
            f'startswith({q}, "rds")', f'endswith({q}, "G1")', f'trimprefix({q}, "rds-")', f'trimsuffix({q}, "-2019")',
            f'format("[%s]", {q})', f'format("%q", {q})', f'contains(split("-", {q}), "ca")', f'"${{{q}}}-x"',
            f'{q} == "rds-ca-2019"', f'{q} != ""', f'coalesce({q}, "fallback")', f'substr({q}, 0, 3)',
            f'substr({q}, 1, -1)', f'trim({q}, " -")', f'indent(2, {q})', f'length(regexall("[a-z]", {q}))',
            f'replace({q}, "/[0-9]+/", "N")', f'base64decode(base64encode({q}))', f'jsondecode(jsonencode({q}))',
            f'lower({q}) == lower(upper({q}))', f'"%{{ if {q} == "" }}empty%{{ else }}full%{{ endif }}"',
        ]
    for n in NUMBERS:
        for f in NUMBER_UNARY:
            out.append(f"{f}({n})")
        out.append(f"signum(floor({n}))")  # signum takes whole numbers only
        out += [f"{n} + 3", f"{n} * 2", f"{n} - 0.5", f"{n} / 4", f"{n} > 0", f"{n} <= 1", f"max({n}, 3)",
                f"min({n}, 3)", f"pow(2, 3) + {n}", f'tonumber(tostring({n}))', f'format("%d", floor({n}))',
                f"{n} == 1 ? \"one\" : \"other\"", f"-({n})"]
    out += ["5 % 3", "-5 % 3", "7 / 2", "parseint(\"ff\", 16)", "parseint(\"-101\", 2)", "log(8, 2)",
            "pow(3, 0)", "sum([1, 2.5])", "ceil(-1.5)", "floor(-1.5)"]
    for lst in LISTS:
        for f in LIST_UNARY:
            out.append(f"{f}({lst})")
        out += [
            f'concat({lst}, ["z"])', f"flatten([{lst}, [{lst}]])", f"slice({lst}, 0, length({lst}))",
            f"chunklist({lst}, 1)", f'setunion({lst}, ["q"])', f'contains({lst}, "a")', f'coalescelist({lst}, ["d"])',
            f'try({lst}[5], "none")', f"can({lst}[5])", f'[for x in {lst} : upper(x)]',
            f'[for i, x in {lst} : "${{i}}-${{x}}"]', f'[for x in {lst} : x if x != ""]',
            f'{{for x in {lst} : x => length(x)...}}', f'join(",", {lst})', f"length(distinct({lst}))",
            f'"%{{ for x in {lst} }}${{x}};%{{ endfor }}"', f'one(slice({lst}, 0, min(1, length({lst}))))',
        ]
    for m in MAPS:
        out += [f"keys({m})", f"values({m})", f"length({m})", f'lookup({m}, "a", "none")', f'merge({m}, {{z = "9"}})',
                f"jsonencode({m})", f'{{for k, v in {m} : upper(k) => v}}', f'[for k, v in {m} : "${{k}}=${{v}}"]',
                f'contains(keys({m}), "a")', f"tomap({m})"]
    out += [
        '[{ca = "rds-ca-2019"}, {ca = "x"}][*].ca', '{a = {b = ["rds"]}}.a.b[0]', 'zipmap(["a", "b"], [1, 2])',
        'transpose({a = ["1", "2"], b = ["2"]})', 'setproduct(["a", "b"], ["1"])', 'range(1, 10, 3)', 'range(5, 0, -2)',
        'element(["a", "b", "c"], 4)', 'true && !false || false', '!(1 < 2)',
        'tobool("true")', 'tolist(toset(["b", "a", "b"]))', 'null == null', 'coalesce(null, "x")',
        'try(tonumber("x"), -1)', 'can(regex("^rds", "rds-ca"))', 'format("%08.3f", 3.14159)', 'format("%%")',
        'format("%v and %v", "a", 2)', 'formatlist("%s-%s", ["a", "b"], ["1", "2"])', 'reverse(range(4))',
        'sort(["10", "9", "a", "B"])', 'distinct([1, 1, 2])', 'matchkeys(["a", "b"], ["x", "y"], ["y"])',
        'lookup({a = "1"}, "b", "dflt")', 'alltrue([])', 'anytrue([])', 'sum([0])', 'compact([])',
        'split(",", "")', 'join("", [])', 'chomp("a\\r\\n")', 'trimspace("\\t x \\n")', 'strrev("")',
        'substr("abc", 5, 2)', 'title("ÉCOLE de rds")', 'upper("straße")', 'lower("İ")',
        'jsonencode(["<a&b>", "é"])', 'format("%q", "<é>")', '-5 % 3', '5 % -3', '-5.5 % 2',
    ]
    return out
