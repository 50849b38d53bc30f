//! The vendor connectors through the library, against the loopback fakes: the HubSpot search
//! pages with `after`, moves its cursor before the 10,000-result cap (set lower in the fake)
//! and waits out search 429s; the Accelo target resolves the names a record gives (job type,
//! manager, standing) to ids from Accelo's reference data, finds the job by its marker, reads
//! it back, and refuses a name that matches nothing without writing anything.

#[path = "runtime_support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use mapctl::connect::accelo::{AcceloOptions, AcceloTarget, Credentials};
use mapctl::connect::hubspot::{HubSpotOptions, HubSpotSource};
use mapctl::connect::meter::Meter;
use mapctl::connect::{Delivery, Source, Target, TargetError};
use mapctl::engine::{LoadOptions, Mapping};
use mapctl::io::input::Payload;
use mapctl::net::ClientOptions;
use serde_json::{Value, json};
use support::accelo_fake::AcceloFake;
use support::hubspot_fake::HubSpotFake;
use support::pair::{ACCELO_ID, ACCELO_SECRET, TOKEN, fast_retry, form, mapping, won};

#[test]
fn the_search_moves_its_cursor_at_the_cap_and_waits_out_429s() {
    let hub = HubSpotFake::start(TOKEN);
    hub.company("9001", "Acme Corporation");
    for n in 0..12 {
        won(
            &hub,
            &format!("1800{n:07}"),
            &format!("Deal {n}"),
            Some("10.00"),
            "9001",
        );
    }
    {
        let mut state = hub.state.lock().unwrap();
        state.cap = 5;
        state.search_429_every = Some(4);
    }
    let mapping = Mapping::load(Path::new(&mapping()), &LoadOptions::default()).unwrap();
    let mut options = HubSpotOptions::new(
        &hub.url(),
        TOKEN.into(),
        mapctl::deliver::needs::needs(&mapping),
    );
    (
        options.page_size,
        options.search_cap,
        options.retry,
        options.overlap,
    ) = (2, 5, fast_retry(), Duration::ZERO);
    let mut source = HubSpotSource::new(options).unwrap();
    let mut seen = BTreeSet::new();
    let cursor = source
        .changed(None, &mut |item| {
            let Ok(Payload::Parsed(bundle)) = item.item.value else {
                panic!("a bundle: {}", item.origin)
            };
            assert_eq!(bundle["company"]["properties"]["name"], "Acme Corporation");
            assert_eq!(
                bundle["deal"]["associations"]["companies"]["results"][0]["id"],
                "9001"
            );
            seen.insert(bundle["deal"]["id"].as_str().unwrap().to_string());
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen.len(), 12, "{seen:?}");
    let afters: Vec<usize> = hub
        .state
        .lock()
        .unwrap()
        .searches
        .iter()
        .filter_map(|s| s["after"].as_str())
        .map(|a| a.parse().unwrap())
        .collect();
    assert!(
        afters.iter().all(|a| *a < 5),
        "paged past the cap: {afters:?}"
    );
    assert!(
        hub.state
            .lock()
            .unwrap()
            .searches
            .iter()
            .any(Value::is_null),
        "a 429 was answered"
    );
    // From the saved cursor, only the deal at that instant is read again.
    let mut again = 0;
    source
        .changed(cursor.as_deref(), &mut |_| {
            again += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(again, 1);
}

fn delivery<'a>(deal: &'a str, record: &'a [u8]) -> Delivery<'a> {
    Delivery {
        deal_id: deal,
        idempotency_key: "mapctl-key",
        record,
        client: None,
    }
}

#[test]
fn names_resolve_to_accelo_ids_and_an_unknown_name_refuses_the_deal() {
    let accelo = AcceloFake::start(ACCELO_ID, ACCELO_SECRET);
    let target = AcceloTarget::new(AcceloOptions {
        base: accelo.url(),
        credentials: Credentials {
            id: ACCELO_ID.into(),
            secret: ACCELO_SECRET.into(),
        },
        create_clients: false,
        client_key: mapctl::engine::client_key,
        client: ClientOptions::default(),
        meter: Meter::new(),
        retry: fast_retry(),
    })
    .unwrap();
    let record = json!({"title": "Acme training", "against_type": "company", "against_id": 101, "type_title": "training",
        "manager_email": "MEI.LIN@ourfirm.example", "standing": "pending", "crm_deal_id": "HS-77"}).to_string().into_bytes();
    let created = target.create(&delivery("77", &record)).unwrap();
    let job = accelo.jobs().pop().unwrap();
    assert_eq!(created.project_id.as_deref(), Some(job.id.as_str()));
    assert_eq!(
        (
            form(&job, "type_id"),
            form(&job, "manager_id"),
            form(&job, "status_id")
        ),
        (Some("9"), Some("21"), Some("1"))
    );
    assert_eq!(form(&job, "title"), Some("Acme training [HS-77]"));
    assert_eq!(
        target.find(&delivery("77", &record)).unwrap(),
        vec![job.id.clone()]
    );
    assert_eq!(
        target.project(&job.id).unwrap().unwrap()["standing"],
        "pending"
    );
    assert_eq!(target.project("999999").unwrap(), None);
    let unknown = json!({"title": "T", "against_type": "company", "against_id": 101, "type_title": "Underwater basket weaving", "manager_id": 12}).to_string().into_bytes();
    match target.create(&delivery("78", &unknown)) {
        Err(TargetError::Rejected { message, .. }) => assert!(
            message.contains("no active Accelo job type") && message.contains("Implementation"),
            "{message}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        accelo.jobs().len(),
        1,
        "nothing was created for the refused deal"
    );
}
