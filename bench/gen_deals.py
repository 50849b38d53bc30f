#!/usr/bin/env python3
"""Seeded generator of HubSpot CRM v3 deals for the reference benchmark job, as NDJSON.

usage: gen_deals.py COUNT [SEED] > deals.ndjson

Each deal has the shape HubSpot returns (every property a string or null, ISO date-times with
milliseconds, keys sorted) and about 1.2 KB of data, with the failure modes the job must handle:
about 70% at `closedwon`; amounts empty, missing, null, zero or negative in about 8% of deals;
missing close dates and owners; company names with legal suffixes, odd spacing and punctuation;
never-transfer fields (billing preferences, rate cards, resource assignments) filled with text no
other field contains. Same COUNT and SEED, same bytes.
"""
import json
import random
import sys

OTHER_STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                "decisionmakerboughtin", "contractsent", "closedlost"]
STEMS = ["Acme", "Globex", "Initech", "Umbrella", "Stark   Industries", "Hooli", "Vandelay Industries",
         "Müller & Söhne", "Pure Zinc", "Soylent", "Tyrell", "Incline Partners", "Łódź Logistics",
         "O'Brien & Daughters", "Yoyodyne", "Blue Sun"]
SUFFIXES = ["", "", "", " Corp", " Corp.", " Corporation", " Inc", " Inc.", ", Inc.", " LLC", ", LLC",
            " Ltd", " Ltd.", " GmbH", " CORP.", " Co., Ltd.", " inc.", " Corp Inc", " Group", " Incorporated"]
NOISE = ["", "", "", " ", "  ", ".", "!", "\t"]
PRODUCTS = ["Implementation", "Data migration", "Managed services", "Discovery sprint", "Training programme",
            "Support retainer", "Integration build", "Security review", "Analytics rollout"]
DEALTYPES = ["newbusiness"] * 4 + ["existingbusiness"] * 2 + ["retainer", "fixedfee", "time_materials", "partnership", ""]
SENTENCES = ["Client wants kickoff within two weeks of signature.",
             "Scope covers discovery, build and a four-week hypercare period.",
             "Procurement asked for a \"not to exceed\" clause on travel.",
             "Stakeholders in Berlin and São Paulo; schedule calls 14:00 UTC.",
             "Key risk:\tlegacy CRM exports contain duplicate accounts.",
             "Renewal of last year's engagement, with 10% more hours.",
             "Data volumes: ~2.4M records, 18 source tables, nightly sync."]
NAMES = ["ana", "ben", "chloé", "dmitri", "eve", "farah", "gus", "hana", "ivan", "jules"]


def stamp(rng):
    return (f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z")


def amount(rng):
    roll = rng.random()
    if roll < 0.03:
        return ""
    if roll < 0.045:
        return "<missing>"
    if roll < 0.055:
        return None
    if roll < 0.07:
        return "0.00"
    if roll < 0.075:
        return "-1500.00"
    dollars = rng.choice([1000, 10000, 10000, 100000]) * rng.randint(1, 9) // 100 * 100 + rng.randint(0, 99) * 100
    return rng.choice([f"{dollars}.00", f"{dollars}", f"{dollars - 1}.{rng.randint(1, 99):02d}"])


def maybe(rng, value, missing=0.02, null=0.02):
    roll = rng.random()
    return "<missing>" if roll < missing else None if roll < missing + null else value


def deal(rng, index):
    stem = rng.choice(STEMS)
    company = rng.choice(["", "", " ", "\t"]) + stem + rng.choice(SUFFIXES) + rng.choice(NOISE)
    first, last = rng.choice(NAMES), rng.choice(NAMES)
    description = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(3, 8)))
    props = {
        "amount": amount(rng),
        "billing_preferences": f"Invoice monthly; Net {rng.choice([15, 30, 60])}; PO-{rng.randint(100000, 999999)} required; send to ap@{stem.split()[0].lower()}.example",
        "closedate": maybe(rng, stamp(rng), 0.03, 0.01),
        "company_name": maybe(rng, company, 0.01, 0.01),
        "createdate": stamp(rng),
        "dealname": maybe(rng, f"{stem.split()[0]} - {rng.choice(PRODUCTS)} 2024", 0.01, 0.01),
        "dealstage": "closedwon" if rng.random() < 0.7 else rng.choice(OTHER_STAGES),
        "dealtype": maybe(rng, rng.choice(DEALTYPES), 0.02, 0.02),
        "delivery_lead_email": maybe(rng, f"{first}.{last}@ourfirm.example", 0.05, 0.05),
        "description": maybe(rng, description[:rng.randint(200, 600)], 0.03, 0.03),
        "hs_lastmodifieddate": stamp(rng),
        "hs_object_id": None,
        "hubspot_owner_id": maybe(rng, str(rng.randint(40000000, 49999999)), 0.02, 0.02),
        "internal_rate_card": f"Principal {rng.randint(200, 260)}/h; Senior {rng.randint(150, 199)}/h; floor margin {rng.randint(20, 40)}%; do not share externally",
        "pipeline": "default",
        "resource_assignments": f"{first} {last} (PM, {rng.choice([20, 40, 60])}%)",
    }
    deal_id = str(18000000000 + index * 37 + rng.randint(0, 36))
    props["hs_object_id"] = deal_id
    props = {k: v for k, v in props.items() if v != "<missing>"}
    created = props["createdate"]
    return {"id": deal_id, "properties": props, "createdAt": created,
            "updatedAt": props["hs_lastmodifieddate"], "archived": False}


def main():
    count = int(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    rng = random.Random(seed)
    write = sys.stdout.write
    for index in range(count):
        write(json.dumps(deal(rng, index), ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
