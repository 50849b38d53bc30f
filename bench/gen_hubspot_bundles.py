#!/usr/bin/env python3
"""Seeded generator of HubSpot deal bundles (deal + company) as NDJSON, for apply tests.

Usage: gen_hubspot_bundles.py COUNT SEED [BAD_RATE] > deals.ndjson

About 70% of deals are at `closedwon`; some miss required facts; BAD_RATE (default 0) of the
lines are malformed (truncated JSON, `null`, a bare string) so rejection accounting can be tested.
"""
import json
import random
import sys

STAGES = ["closedwon"] * 7 + ["contractsent", "qualifiedtobuy", "closedlost"]
COMPANIES = ["Acme Corporation", "  ACME corp. ", "Globex Co., Ltd.", "Initech LLC", "Umbrella Corp",
             "Stark Industries", "Hooli CORP.!", "Müller & Söhne GmbH", "Wayne Enterprises", "Tyrell Inc."]
OWNERS = ["51234567", "51234568", "51234569", "61000042"]


def deal(rng, index):
    amount = rng.choice([f"{rng.randint(1, 250000)}.00", f"{rng.randint(1000, 99999)}.50", "", "0", None])
    props = {
        "dealname": rng.choice(["ERP rollout", "Training programme", "Managed services", "Audit"]) + f" {index}",
        "amount": amount,
        "closedate": rng.choice([f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T09:30:00.000Z", None]),
        "dealstage": rng.choice(STAGES),
        "pipeline": "default",
        "dealtype": rng.choice(["newbusiness", "existingbusiness", None]),
        "hubspot_owner_id": rng.choice(OWNERS + [None]),
        "description": "Scope agreed in the SOW." if rng.random() < 0.8 else None,
        "contract_type": rng.choice(["fixed_fee", "retainer", "time_and_materials"]),
        "service_line": rng.choice(["strategy", "implementation", "managed_services", "training"]),
        "internal_rate_card": f"NT-SECRET-{index}-rates",
        "billing_preferences": f"NT-SECRET-{index}-billing",
        "resource_assignments": f"NT-SECRET-{index}-people",
    }
    company_id = str(9000 + index % 500)
    return {
        "deal": {
            "id": str(18000000000 + index),
            "properties": props,
            "createdAt": "2025-01-20T10:02:11.120Z",
            "updatedAt": "2025-03-14T09:31:02.004Z",
            "archived": False,
            "associations": {"companies": {"results": [{"id": company_id, "type": "deal_to_company"}]}},
        },
        "company": {"id": company_id, "properties": {"name": rng.choice(COMPANIES)}},
    }


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    bad_rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    rng = random.Random(seed)
    out = sys.stdout
    for index in range(count):
        if rng.random() < bad_rate:
            out.write(rng.choice(['{"deal": {"id": "truncated', "null", '"just text"', "[1, 2"]) + "\n")
        else:
            out.write(json.dumps(deal(rng, index), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
