//! The mappings the reference law generates deals for: the shipped ones, a golden case's
//! mapping without never-transfer fields (its deals are validated while they are read), a
//! mapping with a bit of everything (`kitchen/`), and the schemas of edge cases (`edges/`: a
//! bundle, `allOf` parts on one value, a record under `anyOf`), each with the deals mutations
//! start from and the fields worth mutating.

/// One mapping the generated deals run through, with the deals the mutations start from.
pub struct Generated {
    pub mapping: &'static str,
    pub clients: Option<&'static str>,
    pub refs: &'static [(&'static str, &'static str)],
    pub bases: &'static [&'static str],
    /// Fields the mapping reads (JSON pointers) and values worth writing there (a JSON array).
    pub focus: &'static [(&'static str, &'static str)],
    /// Run without the mapping's `never transfer` block: source violations then come from the
    /// streaming reader (with never-transfer fields, a deal it finds invalid is read again whole).
    pub streamed: bool,
}

pub const GENERATED: &[Generated] = &[
    Generated {
        mapping: "mappings/hubspot_to_accelo.map",
        clients: Some("mappings/samples/hubspot/accelo_companies.json"),
        refs: &[("company", "tests/support/companies.ndjson")],
        bases: &[
            "mappings/samples/hubspot/deal_won.json",
            "mappings/samples/hubspot/deal_missing_data.json",
            "tests/apply/ref_join_company/deal.json",
        ],
        focus: &[
            (
                "/deal/properties/dealstage",
                r#"["closedwon", "contractsent", null, "closed_won"]"#,
            ),
            (
                "/deal/properties/amount",
                r#"["0.00", "-5", "12,5x", "100000", "25000.50", "", " 42 ", null, "1e3"]"#,
            ),
            (
                "/properties/amount",
                r#"["0.00", "100000", "25000.50", "", null]"#,
            ),
            (
                "/deal/properties/contract_type",
                r#"["retainer", "fixed_fee", "time_materials", null, ""]"#,
            ),
            (
                "/deal/properties/closedate",
                r#"["2025-03-14T09:30:00.000Z", "2025-03-14", "2025-02-30T00:00:00Z", null, ""]"#,
            ),
            (
                "/deal/properties/hubspot_owner_id",
                r#"["51234567", "99999", null, "1", "abc"]"#,
            ),
            (
                "/properties/hubspot_owner_id",
                r#"["51234567", "99999", null]"#,
            ),
            (
                "/deal/properties/service_line",
                r#"["implementation", "training", "strategy", "cooking", null]"#,
            ),
            (
                "/deal/properties/company_name",
                r#"["Globex", "Acme Corp.", "", "  ", null, "New Client LLC", "Initrode"]"#,
            ),
            (
                "/properties/company_name",
                r#"["Globex", "Acme Corp.", "", null, "New Client LLC"]"#,
            ),
            (
                "/company/properties/name",
                r#"["Globex", "ACME corp", "", null, "Brand New Ltd", 42]"#,
            ),
            ("/company", r#"[null, {}, {"id": "9001"}]"#),
            (
                "/associations/companies/results/0/id",
                r#"["9000", "9001", "9002", "9003", "9999", "", "51234567"]"#,
            ),
            (
                "/deal/associations/companies/results/0/id",
                r#"["9001", "9003", ""]"#,
            ),
            (
                "/deal/properties/internal_rate_card",
                r#"[12345678, "Principal 260/h; \"Senior\" 174/h", ["Senior 210/h"], {"rate": "Junior 120/h"}]"#,
            ),
            (
                "/properties/internal_rate_card",
                r#"[12345678, ["Senior 210/h"]]"#,
            ),
            (
                "/deal/properties",
                r#"[["Invoice monthly in arrears, PO 4471 required"]]"#,
            ),
        ],
        streamed: false,
    },
    Generated {
        mapping: "mappings/copper_to_harvest.map",
        clients: Some("mappings/samples/copper/clients.json"),
        refs: &[],
        bases: &[
            "mappings/samples/copper/deal_won.json",
            "mappings/samples/copper/deal_missing_data.json",
        ],
        focus: &[
            ("/status", r#"["Won", "Open", "Lost", "won"]"#),
            (
                "/monetary_value",
                r#"[0, 48500, 19999.5, 50000, -1, "48500", null]"#,
            ),
            ("/monetary_unit", r#"["USD", "EUR", null, ""]"#),
            (
                "/close_date",
                r#"["3/14/2025", "2025-03-14", "14.03.2025", null, ""]"#,
            ),
            ("/assignee_id", r#"[680124, 1, null, "680124"]"#),
            (
                "/company_name",
                r#"["Globex", "ACME Corp.", "", " ", null, "New Client LLC", "Stark Industries"]"#,
            ),
            ("/priority", r#"["High", "Low", "None", "Urgent", null]"#),
            (
                "/custom_fields/0/value",
                r#"[417001, 417002, 417003, 417004, 417005, 417009, "417001", null]"#,
            ),
            ("/custom_fields/1/value", r#"[320, 0, "abc", null, 12.5]"#),
            (
                "/custom_fields/2/value",
                r#"["Senior 210/h; Junior 120/h", 1234567, null]"#,
            ),
            ("/custom_fields/5/value", r#"[1759190400, "x", null, 0]"#),
            (
                "/custom_fields/0/custom_field_definition_id",
                r#"[5001, 5001.0, "5001", 5002, 5003]"#,
            ),
            (
                "/custom_fields/1/custom_field_definition_id",
                r#"[5001, 5002.0, 5004]"#,
            ),
            ("/tags", r#"[["referral"], [], "discount-approved", null]"#),
        ],
        streamed: false,
    },
    Generated {
        mapping: "mappings/zoho_to_custom.map",
        clients: Some("mappings/samples/zoho/clients.json"),
        refs: &[],
        bases: &[
            "mappings/samples/zoho/deal_won.json",
            "mappings/samples/zoho/deal_missing_data.json",
        ],
        focus: &[
            (
                "/Stage",
                r#"["Closed Won", "Qualification", "Closed Lost", null]"#,
            ),
            ("/Amount", r#"[0, 48500, 1.5, -1, null, 1e15]"#),
            ("/Currency", r#"["USD", "EUR", "GBP", "JPY", null]"#),
            (
                "/Closing_Date",
                r#"["2025-03-14", "2025-02-30", "14.03.2025", null]"#,
            ),
            (
                "/Account_Name/name",
                r#"["Globex", "ACME Corp.", "", "  ", "New Client LLC", "Initrode   Limited"]"#,
            ),
            (
                "/Account_Name",
                r#"[null, {"id": "1"}, {"name": "Globex", "id": "2"}]"#,
            ),
            (
                "/Owner/id",
                r#"["5725767000000411003", "1", "5725767000000411999"]"#,
            ),
            (
                "/Owner/email",
                r#"["tom.becker@ourfirm.example", "no-at-sign", null, ""]"#,
            ),
            ("/Owner/name", r#"["", " ", "Tom"]"#),
            (
                "/Project_Type",
                r#"["Retainer", "Enterprise", "Standard", "Custom", null, ""]"#,
            ),
            ("/Deal_Name", r#"["  Spaced   name  ", "", null]"#),
            ("/Probability", r#"[50, 1234, -0.5, "high"]"#),
        ],
        streamed: false,
    },
    Generated {
        mapping: "tests/support/kitchen/kitchen.map",
        clients: Some("tests/support/kitchen/clients.json"),
        refs: &[],
        bases: &["tests/support/kitchen/deals.ndjson"],
        focus: &[
            ("/stage", r#"["won", "won_late", "open", "lost"]"#),
            (
                "/amount",
                r#"["12,500.50", "0", 5000, 50, 10000, 99.995, "abc", null, -3, "1e3"]"#,
            ),
            ("/hours", r#"[120.5, 0, 100, 100.5, -1, 10000, null, 2.5]"#),
            (
                "/closed_at",
                r#"["2025-03-14T09:30:00.000Z", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00+01:00", "2025-03-14", null, ""]"#,
            ),
            (
                "/start_on",
                r#"["14.03.2025", "2025-03-14", "31.02.2025", null, ""]"#,
            ),
            ("/kickoff", r#"[1741910400, 0, -1, null, 99999999999]"#),
            (
                "/priority",
                r#"["high", "low", 1, 2, 3, true, false, null, 1.0]"#,
            ),
            (
                "/tags",
                r#"[[], ["erp"], ["a", "b", "c", "d", "e", "f"], [""], null, "erp"]"#,
            ),
            ("/code", r#"["ERP", "ABCD", "erp", "ABCDE", null, "AEIO"]"#),
            ("/lines/0/qty", r#"[1, 0, 2.5, null, "2"]"#),
            ("/lines/1/qty", r#"[1, 3, null]"#),
            ("/lines/0/sku", r#"["a-1", "", null, 7]"#),
            (
                "/company/name",
                r#"["Acme Corporation", "Globex", "HOOLI", "Initrode", "New Co", "", null]"#,
            ),
            (
                "/company/region",
                r#"["emea", "amer", "apac", null, "mars", [], {"code": "emea"}]"#,
            ),
            ("/company", r#"[{}, null, {"name": "Globex", "extra": 1}]"#),
            (
                "/secret_terms",
                r#"["Acme rollout", "12,500.50", "Discount 12% approved by M. Ortiz", 1234]"#,
            ),
            (
                "/name",
                r#"["", "  ", "x", "Discount 12% approved by M. Ortiz", null]"#,
            ),
        ],
        streamed: false,
    },
    Generated {
        mapping: "tests/support/kitchen/kitchen.map",
        clients: Some("tests/support/kitchen/clients.json"),
        refs: &[],
        bases: &["tests/support/kitchen/deals.ndjson"],
        focus: &[
            ("/stage", r#"["won", "won_late", "open", "lost"]"#),
            (
                "/amount",
                r#"["12,500.50", "0", 5000, 50, 10000, 99.995, "abc", null, -3, "1e3"]"#,
            ),
            ("/hours", r#"[120.5, 0, 100, 100.5, -1, 10000, null, 2.5]"#),
            (
                "/closed_at",
                r#"["2025-03-14T09:30:00.000Z", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00+01:00", "2025-03-14", null, ""]"#,
            ),
            (
                "/start_on",
                r#"["14.03.2025", "2025-03-14", "31.02.2025", null, ""]"#,
            ),
            ("/kickoff", r#"[1741910400, 0, -1, null, 99999999999]"#),
            (
                "/priority",
                r#"["high", "low", 1, 2, 3, true, false, null, 1.0]"#,
            ),
            (
                "/tags",
                r#"[[], ["erp"], ["a", "b", "c", "d", "e", "f"], [""], null, "erp"]"#,
            ),
            ("/code", r#"["ERP", "ABCD", "erp", "ABCDE", null, "AEIO"]"#),
            ("/lines/0/qty", r#"[1, 0, 2.5, null, "2"]"#),
            ("/lines/1/qty", r#"[1, 3, null]"#),
            ("/lines/0/sku", r#"["a-1", "", null, 7]"#),
            (
                "/company/name",
                r#"["Acme Corporation", "Globex", "HOOLI", "Initrode", "New Co", "", null]"#,
            ),
            (
                "/company/region",
                r#"["emea", "amer", "apac", null, "mars", [], {"code": "emea"}]"#,
            ),
            ("/company", r#"[{}, null, {"name": "Globex", "extra": 1}]"#),
            (
                "/secret_terms",
                r#"["Acme rollout", "12,500.50", "Discount 12% approved by M. Ortiz", 1234]"#,
            ),
            (
                "/name",
                r#"["", "  ", "x", "Discount 12% approved by M. Ortiz", null]"#,
            ),
        ],
        streamed: true,
    },
    Generated {
        mapping: "tests/support/unsupported/mapping.map",
        clients: None,
        refs: &[],
        bases: &["tests/apply/target_schema_violation/deals.ndjson"],
        focus: &[
            ("/stage", r#"["won", "open", "lost", null, ["won"]]"#),
            (
                "/name",
                r#"["Short", "A name that is much too long for the PSA", "", null, {}]"#,
            ),
            ("/amount", r#"[1200, -5, 0, 1.5, null, "1200"]"#),
            ("/id", r#"["a1", 1, null]"#),
        ],
        streamed: false,
    },
    Generated {
        mapping: "tests/apply/target_schema_violation/mapping.map",
        clients: None,
        refs: &[],
        bases: &["tests/apply/target_schema_violation/deals.ndjson"],
        focus: &[
            ("/stage", r#"["won", "open", "lost", null]"#),
            (
                "/name",
                r#"["Short", "A name that is much too long for the PSA", "", null]"#,
            ),
            ("/amount", r#"[1200, -5, 0, 1.5, null, "1200"]"#),
            ("/id", r#"["a1", 1, null]"#),
        ],
        streamed: false,
    },
    Generated {
        mapping: "tests/support/edges/edges.map",
        clients: None,
        refs: &[],
        bases: &["tests/support/edges/bases.ndjson"],
        focus: &[
            ("/stage", r#"["won", "open", "x", null, ["won"]]"#),
            ("/name", r#"["Acme", "ab", "x", 5, null, {"a": 1}]"#),
            (
                "/tags",
                r#"[["ab", "cd"], ["abcd"], [], "x", {}, [1, 2, 3]]"#,
            ),
            (
                "/lines",
                r#"[[], {}, [{"qty": 0}], [{"sku": 5, "qty": "x"}], "x"]"#,
            ),
            (
                "/owner",
                r#"[{}, {"email": "x"}, [1], null, {"email": "a@b.example", "name": 2}]"#,
            ),
            ("/kind", r#"["a", "c", [1], {"a": 1}, null]"#),
            ("/pair", r#"[[1, 2], [1, 3], {}, [1.0, 2], "x"]"#),
            ("/choice", r#"["x", 1, 1.5, [], {}]"#),
            ("/flag", r#"[1, null, {}]"#),
            ("/deal/id", r#"["2", 2, null]"#),
            ("/deal/stage", r#"["won", "open", 1]"#),
            ("/company", r#"[{"id": "c"}, {"name": "x"}, [1], null]"#),
            ("/company/name", r#"["x", "Globex", 5]"#),
        ],
        streamed: false,
    },
    Generated {
        mapping: "tests/support/edges/record.map",
        clients: None,
        refs: &[],
        bases: &["tests/support/edges/record_bases.ndjson"],
        focus: &[
            ("/id", r#"["1", 1, null]"#),
            ("/a", r#"[1, null]"#),
            ("/obj", r#"[{}, {"x": 1}, {"y": 1, "z": "q"}, [], null]"#),
            ("/both", r#"[{}, {"p": 1}, {"p": "s", "q": 1}, "x"]"#),
            ("/ref", r#"[-5, 500, 50, "x", 100.5, null]"#),
            ("/one", r#"[1, 1.5, "s", null]"#),
            ("/neg", r#"["s", 1, []]"#),
            ("/strict", r#"[{"k": 1, "j": 2}, {"k": "v"}, {}, "x"]"#),
            ("/mixed", r#"[{"a": "x"}, {"b": "x", "a": 1}, {}, []]"#),
            ("/arr", r#"[[1, "x", 9, {}, null], [9, 9, 9], "x", []]"#),
            ("/e", r#"[2, [1], 1.0, "x", true]"#),
            ("/c", r#"[{"k": 2}, [1], {"k": 1.0}, {"k": 1}]"#),
        ],
        streamed: false,
    },
    // Parentheses: pipelines over a whole `??` in maps, require rules and interpolations.
    Generated {
        mapping: "tests/check/clean_parentheses.map",
        clients: None,
        refs: &[],
        bases: &["tests/check/clean_parentheses.sample.json"],
        focus: &[
            (
                "/properties/amount",
                r#"["48500.00", "0", "-3", "12,5x", "", null]"#,
            ),
            (
                "/properties/closedate",
                r#"["2025-03-14T09:30:00.000Z", "2025-02-30T00:00:00Z", "", null]"#,
            ),
            (
                "/properties/description",
                r#"["3/14/2025", "2025-03-14", "soon", "", null]"#,
            ),
        ],
        streamed: false,
    },
    // Named values, date arithmetic and rounding (the acceptance mapping of issue 22).
    Generated {
        mapping: "tests/language/copper_named_values.map",
        clients: Some("tests/language/samples/clients.json"),
        refs: &[],
        bases: &["tests/language/samples/deal_won.json"],
        focus: &[
            ("/status", r#"["Won", "Open", null]"#),
            ("/monetary_value", r#"[48500, 48500.5, 0.4, -3, null]"#),
            (
                "/close_date",
                r#"["3/14/2025", "1/31/2025", "2025-02-30", "", null]"#,
            ),
            (
                "/custom_fields",
                r#"[[{"custom_field_definition_id": 5001, "value": 417001}], [{"custom_field_definition_id": 5001, "value": 999}], [], null]"#,
            ),
            (
                "/company_name",
                r#"["ACME Corp.", "Globex", "New Co", null]"#,
            ),
        ],
        streamed: false,
    },
];
