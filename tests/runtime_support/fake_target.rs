//! A loopback fake of a home-grown project system, answering as the generic HTTP target's
//! contract says (docs/runtime.md): `POST /projects` creates a project and answers `201 {"id"}`,
//! `GET /projects?idempotency_key=K` (or `?deal_id=D`) lists the matching projects. With
//! `dedupe_by_key` a second POST under a known key answers `409 {"id"}` (a target that honours
//! idempotency keys); without it every POST that gets through creates a project, so only
//! mapctl's ledger and lookups stand between a retry and a duplicate.
//!
//! Faults are injected at random (seeded) on any request: 429 with `Retry-After`, 503, 500, a
//! connection closed before anything is written, a write committed and its response lost (the
//! connection closed), and a slow answer after the commit. Plain std sockets on 127.0.0.1 with
//! port 0; every thread ends by itself (read timeouts, a stop flag checked every few ms).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

/// A fault, chosen per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// 429 with `Retry-After: 0` (nothing written).
    TooMany,
    /// 503 (nothing written).
    Unavailable,
    /// 500 (nothing written).
    ServerError,
    /// The connection closes before anything is written.
    ResetBeforeWrite,
    /// The project is created, and the connection closes without an answer.
    LostAfterCommit,
    /// The project is created, and the answer comes after `slow`.
    SlowAfterCommit,
}

/// Every fault.
pub const ALL_FAULTS: [Fault; 6] = [
    Fault::TooMany,
    Fault::Unavailable,
    Fault::ServerError,
    Fault::ResetBeforeWrite,
    Fault::LostAfterCommit,
    Fault::SlowAfterCommit,
];

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Answer 409 with the project's id for a POST under a known idempotency key.
    pub dedupe_by_key: bool,
    /// Chance that a request meets a fault.
    pub fault_rate: f64,
    /// The faults to choose from.
    pub faults: Vec<Fault>,
    /// Seed of the fault schedule.
    pub seed: u64,
    /// How long a slow answer takes.
    pub slow: Duration,
    /// Records whose `name` starts with this are refused with 422.
    pub refuse_prefix: Option<String>,
    /// The `Retry-After` value of 429 answers.
    pub retry_after: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            dedupe_by_key: false,
            fault_rate: 0.0,
            faults: ALL_FAULTS.to_vec(),
            seed: 1,
            slow: Duration::from_millis(400),
            refuse_prefix: None,
            retry_after: 0,
        }
    }
}

/// A project the fake holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// Its id.
    pub id: String,
    /// The idempotency key it was created under.
    pub key: Option<String>,
    /// The record POSTed.
    pub body: Value,
    /// The `Authorization` header it came with.
    pub authorization: Option<String>,
}

struct State {
    options: Options,
    projects: Vec<Project>,
    requests: u64,
    faults: BTreeMap<Fault, u64>,
    rng: u64,
}

impl State {
    fn random(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick_fault(&mut self) -> Option<Fault> {
        if self.options.faults.is_empty() || self.random() >= self.options.fault_rate {
            return None;
        }
        let index = (self.random() * self.options.faults.len() as f64) as usize;
        let fault = self.options.faults[index.min(self.options.faults.len() - 1)];
        *self.faults.entry(fault).or_default() += 1;
        Some(fault)
    }
}

/// The running fake.
pub struct FakeTarget {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeTarget {
    /// Starts the fake on 127.0.0.1, port 0.
    pub fn start(options: Options) -> FakeTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let address = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(State {
            rng: options.seed | 1,
            options,
            projects: Vec::new(),
            requests: 0,
            faults: BTreeMap::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || accept_loop(listener, state, stop))
        };
        FakeTarget {
            address,
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// The projects endpoint.
    pub fn url(&self) -> String {
        format!("http://{}/projects", self.address)
    }

    /// Every project created, in order.
    pub fn projects(&self) -> Vec<Project> {
        self.state.lock().unwrap().projects.clone()
    }

    /// Requests received so far (complete heads).
    pub fn requests(&self) -> u64 {
        self.state.lock().unwrap().requests
    }

    /// Faults injected so far, by kind.
    pub fn faults(&self) -> BTreeMap<Fault, u64> {
        self.state.lock().unwrap().faults.clone()
    }

    /// Changes the fault rate from now on.
    pub fn set_fault_rate(&self, rate: f64) {
        self.state.lock().unwrap().options.fault_rate = rate;
    }

    /// Changes the refused-name prefix from now on.
    pub fn set_refuse_prefix(&self, prefix: Option<&str>) {
        self.state.lock().unwrap().options.refuse_prefix = prefix.map(str::to_string);
    }

    /// Projects by the `deal_id` their records carry.
    pub fn projects_by_deal(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for project in self.projects() {
            let deal = project.body["deal_id"].as_str().unwrap_or("?").to_string();
            *counts.entry(deal).or_default() += 1;
        }
        counts
    }
}

impl Drop for FakeTarget {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(listener: TcpListener, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let state = Arc::clone(&state);
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || serve_connection(stream, &state, &stop));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

struct Request {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

fn serve_connection(stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.set_nodelay(true);
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut writer = writer;
    let mut reader = BufReader::new(stream);
    let mut idle = 0;
    while !stop.load(Ordering::SeqCst) && idle < 20 {
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                idle += 1;
                continue;
            }
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {
                idle += 1;
                continue;
            }
            Err(_) => return,
        };
        idle = 0;
        match answer(state, &request) {
            Some((status, headers, body, delay)) => {
                if !delay.is_zero() {
                    std::thread::sleep(delay);
                }
                if respond(&mut writer, status, &headers, &body).is_err() {
                    return;
                }
            }
            None => return,
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Ok(None);
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    Ok(Some(Request {
        method,
        path: path.to_string(),
        query,
        headers,
        body,
    }))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(Ok(byte)) = text.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>, Duration);

fn json_answer(status: u16, value: Value) -> Answer {
    (
        status,
        Vec::new(),
        value.to_string().into_bytes(),
        Duration::ZERO,
    )
}

/// The answer to a request; `None` closes the connection without one.
fn answer(state: &Mutex<State>, request: &Request) -> Option<Answer> {
    let mut state = state.lock().unwrap();
    state.requests += 1;
    if request.path != "/projects" {
        return Some(json_answer(404, json!({"message": "no such endpoint"})));
    }
    let fault = state.pick_fault();
    match fault {
        Some(Fault::TooMany) => {
            let after = state.options.retry_after.to_string();
            let headers = vec![("retry-after".to_string(), after)];
            let body = br#"{"message":"slow down"}"#.to_vec();
            return Some((429, headers, body, Duration::ZERO));
        }
        Some(Fault::Unavailable) => {
            return Some(json_answer(503, json!({"message": "unavailable"})));
        }
        Some(Fault::ServerError) => return Some(json_answer(500, json!({"message": "boom"}))),
        Some(Fault::ResetBeforeWrite) => return None,
        _ => {}
    }
    let answer = match request.method.as_str() {
        "POST" => create(&mut state, request),
        "GET" => Some(lookup(&state, request)),
        _ => Some(json_answer(405, json!({"message": "method not allowed"}))),
    };
    match (fault, answer) {
        (Some(Fault::LostAfterCommit), _) => None,
        (Some(Fault::SlowAfterCommit), Some(mut answer)) => {
            answer.3 = state.options.slow;
            Some(answer)
        }
        (_, answer) => answer,
    }
}

fn create(state: &mut State, request: &Request) -> Option<Answer> {
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return Some(json_answer(400, json!({"message": "the body is not JSON"})));
    };
    if request.headers.get("content-type").map(String::as_str) != Some("application/json") {
        return Some(json_answer(
            415,
            json!({"message": "send application/json"}),
        ));
    }
    let key = request.headers.get("idempotency-key").cloned();
    if state.options.dedupe_by_key
        && let Some(existing) = state
            .projects
            .iter()
            .find(|p| p.key.is_some() && p.key == key)
    {
        return Some(json_answer(
            409,
            json!({"id": existing.id, "message": "exists"}),
        ));
    }
    if let Some(prefix) = &state.options.refuse_prefix
        && body["name"]
            .as_str()
            .is_some_and(|n| n.starts_with(prefix.as_str()))
    {
        return Some(json_answer(
            422,
            json!({"message": "this project name is not allowed"}),
        ));
    }
    let id = format!("P{}", state.projects.len() + 1);
    state.projects.push(Project {
        id: id.clone(),
        key,
        body: body.clone(),
        authorization: request.headers.get("authorization").cloned(),
    });
    let mut created = body;
    created["id"] = json!(id);
    Some(json_answer(201, created))
}

fn lookup(state: &State, request: &Request) -> Answer {
    let matches: Vec<Value> = state
        .projects
        .iter()
        .filter(|p| {
            match (
                request.query.get("idempotency_key"),
                request.query.get("deal_id"),
            ) {
                (Some(key), _) => p.key.as_deref() == Some(key.as_str()),
                (None, Some(deal)) => p.body["deal_id"].as_str() == Some(deal.as_str()),
                (None, None) => true,
            }
        })
        .map(|p| {
            let mut value = p.body.clone();
            value["id"] = json!(p.id);
            value
        })
        .collect();
    json_answer(200, Value::Array(matches))
}

fn respond(
    writer: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    writer.write_all(body)?;
    writer.flush()
}
