#!/usr/bin/env python3
"""Turns mapctl's two outputs into the reference job's single stream, so that the shared oracle
(../shared/bench/check_outputs.py) can compare them line by line.

usage: merge_streams.py DEALS.ndjson RECORDS.ndjson REJECTS.ndjson > MERGED.ndjson

The reference stream has one line per `closedwon` deal, in input order: the project, or
{"reject": {"deal_id": ..., "missing": [...]}} where `missing` lists the failed requirements in
the order of bench/reference.map (whose messages are the field names). mapctl writes projects and
rejections to separate files; both carry the deal id, which the generated deals never repeat.
"""
import json
import sys


def main():
    deals_path, records_path, rejects_path = sys.argv[1:4]
    projects = {}
    with open(records_path, encoding="utf-8") as records:
        for line in records:
            if line.strip():
                record = json.loads(line)
                projects[record["source"]["deal_id"]] = line.rstrip("\n")
    rejects = {}
    with open(rejects_path, encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            if entry["outcome"] == "rejected":
                missing = [r["message"] for r in entry["reasons"] if r["code"] == "M504"]
                other = [r for r in entry["reasons"] if r["code"] != "M504"]
                if other:
                    sys.exit(f"deal {entry['deal_id']} rejected for another reason: {other}")
                rejects[entry["deal_id"]] = missing
    out = sys.stdout
    with open(deals_path, encoding="utf-8") as deals:
        for line in deals:
            if not line.strip():
                continue
            deal = json.loads(line)
            if (deal.get("properties") or {}).get("dealstage") != "closedwon":
                continue
            deal_id = deal["id"]
            if deal_id in projects:
                out.write(projects[deal_id] + "\n")
            elif deal_id in rejects:
                out.write(json.dumps({"reject": {"deal_id": deal_id, "missing": rejects[deal_id]}}, separators=(",", ":")) + "\n")
            else:
                sys.exit(f"deal {deal_id} is neither written nor rejected")


if __name__ == "__main__":
    main()
