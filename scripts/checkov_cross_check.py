"""Cross-check of immutag's CloudFormation verdicts against checkov's CKV_AWS_51.

    python3 scripts/checkov_cross_check.py generate DIR
        writes the corpus: one template per case (JSON and YAML), each with one
        AWS::ECR::Repository `Repo`; the file name is the case.
    python3 scripts/checkov_cross_check.py compare DIR IMMUTAG_JSON CHECKOV_JSON DOC
        compares `immutag evaluate -o json DIR/*` (default rule parameters) with
        `checkov -d DIR --check CKV_AWS_51 -o json`: COMPLIANT must meet PASSED and
        NON_COMPLIANT must meet FAILED, except for the cases DOC (docs/evaluation.md) lists
        as deliberate differences between its markers. Fails on any other disagreement, on a
        template either tool did not report, and on a listed difference that no longer occurs.
"""
import fnmatch
import json
import os
import sys

MODES = ["MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"]


def cases():
    """(case name, Parameters, Conditions, Properties) for every combination the corpus covers."""
    out = []
    latest = [{"ImageTagMutabilityExclusionFilterType": "WILDCARD",
               "ImageTagMutabilityExclusionFilterValue": "latest"}]
    star = [{"ImageTagMutabilityExclusionFilterType": "WILDCARD",
             "ImageTagMutabilityExclusionFilterValue": "*"}]
    # Every mode, with and without filters; the setting absent; a misspelling.
    for mode in MODES:
        out.append((f"literal-{mode}", {}, {}, {"ImageTagMutability": mode}))
        if mode.endswith("_WITH_EXCLUSION"):
            out.append((f"literal-{mode}-filter-latest", {}, {},
                        {"ImageTagMutability": mode, "ImageTagMutabilityExclusionFilters": latest}))
            out.append((f"literal-{mode}-filter-star", {}, {},
                        {"ImageTagMutability": mode, "ImageTagMutabilityExclusionFilters": star}))
    out.append(("absent", {}, {}, {}))
    out.append(("literal-lowercase-immutable", {}, {}, {"ImageTagMutability": "immutable"}))
    # Parameters: a Default alone, AllowedValues that leave one choice or several, no Default.
    for mode in ["IMMUTABLE", "MUTABLE"]:
        out.append((f"param-default-{mode}", {"Mode": {"Type": "String", "Default": mode}}, {},
                    {"ImageTagMutability": {"Ref": "Mode"}}))
        out.append((f"param-allowed-only-{mode}",
                    {"Mode": {"Type": "String", "Default": mode, "AllowedValues": [mode]}}, {},
                    {"ImageTagMutability": {"Ref": "Mode"}}))
        out.append((f"param-allowed-both-default-{mode}",
                    {"Mode": {"Type": "String", "Default": mode, "AllowedValues": ["IMMUTABLE", "MUTABLE"]}},
                    {}, {"ImageTagMutability": {"Ref": "Mode"}}))
    out.append(("param-no-default", {"Mode": {"Type": "String"}}, {},
                {"ImageTagMutability": {"Ref": "Mode"}}))
    # Conditions: a choice, and two branches that agree.
    cond = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}
    env = {"Env": {"Type": "String", "Default": "prod", "AllowedValues": ["dev", "prod"]}}
    out.append(("condition-chooses", env, cond,
                {"ImageTagMutability": {"Fn::If": ["IsProd", "IMMUTABLE", "MUTABLE"]}}))
    out.append(("condition-agrees", env, cond,
                {"ImageTagMutability": {"Fn::If": ["IsProd", "IMMUTABLE", "IMMUTABLE"]}}))
    out.append(("condition-on-resource", env, cond, {"ImageTagMutability": "IMMUTABLE"}, ))
    return out


def to_yaml(doc, indent=0):
    """A small YAML writer for the corpus (mappings, lists, strings, long-form intrinsics)."""
    pad = "  " * indent
    lines = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:")
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {json.dumps(v)}")
    elif isinstance(doc, list):
        for v in doc:
            if isinstance(v, (dict, list)) and v:
                inner = to_yaml(v, indent + 1).lstrip()
                lines.append(f"{pad}- {inner}")
            else:
                lines.append(f"{pad}- {json.dumps(v)}")
    return "\n".join(lines)


def generate(directory):
    os.makedirs(directory, exist_ok=True)
    for name, params, conds, props in cases():
        repo = {"Type": "AWS::ECR::Repository",
                "Properties": dict({"RepositoryName": f"cross/{name.lower()}"}, **props)}
        if name == "condition-on-resource":
            repo["Condition"] = "IsProd"
        doc = {"AWSTemplateFormatVersion": "2010-09-09"}
        if params:
            doc["Parameters"] = params
        if conds:
            doc["Conditions"] = conds
        doc["Resources"] = {"Repo": repo}
        with open(os.path.join(directory, f"{name}.json"), "w") as f:
            json.dump(doc, f, indent=1)
        with open(os.path.join(directory, f"{name}.yaml"), "w") as f:
            f.write(to_yaml(doc) + "\n")
    print(f"checkov cross-check: {2 * len(cases())} templates in {directory}", file=sys.stderr)


def deliberate(doc_path):
    """(pattern, reason) rows of the table between the markers in docs/evaluation.md."""
    text = open(doc_path).read()
    start = text.index("<!-- checkov-differences:start -->")
    end = text.index("<!-- checkov-differences:end -->")
    rows = []
    for line in text[start:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows.append((cells[0].strip("`"), cells[1], cells[2], cells[3]))
    if not rows:
        sys.exit(f"FAIL: no deliberate differences listed in {doc_path}")
    return rows


def compare(directory, immutag_json, checkov_json, doc_path):
    ours = {}
    for e in json.load(open(immutag_json)):
        if e.get("resource_type") == "AWS::ECR::Repository":
            ours[os.path.basename(e["source"]["file"])] = e["compliance"]
    report = json.load(open(checkov_json))
    reports = report if isinstance(report, list) else [report]
    theirs = {}
    for r in reports:
        results = r.get("results", {})
        for verdict, key in [("PASSED", "passed_checks"), ("FAILED", "failed_checks")]:
            for c in results.get(key, []):
                if c.get("check_id") == "CKV_AWS_51":
                    theirs[os.path.basename(c["file_path"])] = verdict
    files = sorted(f for f in os.listdir(directory) if f.endswith((".json", ".yaml")))
    rows = deliberate(doc_path)
    used = set()
    failures, agreed, listed = [], 0, 0
    for f in files:
        a, b = ours.get(f), theirs.get(f)
        if a is None or b is None:
            failures.append(f"{f}: immutag {a}, checkov {b} (not reported by one of them)")
            continue
        if (a == "COMPLIANT") == (b == "PASSED"):
            agreed += 1
            continue
        case = f.rsplit(".", 1)[0]
        row = next((r for r in rows if fnmatch.fnmatch(case, r[0])
                    and r[1] == a and r[2] == b), None)
        if row:
            used.add(row[0])
            listed += 1
        else:
            failures.append(f"{f}: immutag {a}, checkov {b}: a disagreement not listed in {doc_path}")
    for pattern, *_ in rows:
        if pattern not in used:
            failures.append(f"{doc_path} lists `{pattern}` as a deliberate difference, but no template shows it")
    for line in failures:
        print("FAIL: " + line, file=sys.stderr)
    print(f"checkov cross-check: {agreed} agree, {listed} differ as documented, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif len(sys.argv) == 6 and sys.argv[1] == "compare":
        compare(*sys.argv[2:])
    else:
        sys.exit(__doc__)
