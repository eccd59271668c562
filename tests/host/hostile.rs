//! crm-host against hostile guests and clients: guests that never return, clients that
//! vanish, send slowly, send too much, never read, or come in too great a number. Each
//! limit is proved by what the host does and by its counters on the admin listener.

use crm_tests::{TestApp, fixtures};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A sample of the admin listener's metrics, by full name (labels included).
async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample `{name}` in:\n{text}"))
}

/// Poll a metric until it reads `want` (bounded: 10 s).
async fn wait_for_metric(app: &TestApp, name: &str, want: u64) {
    let mut last = u64::MAX;
    for _ in 0..200 {
        last = metric(app, name).await;
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} stayed at {last}, expected {want}");
}

/// A client that gives up after `timeout`.
fn impatient(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}

#[tokio::test]
async fn a_guest_that_never_returns_is_stopped_at_the_deadline_with_an_empty_500() {
    let app = fixtures()
        .limits(|l| l.request_timeout = Duration::from_millis(800))
        .admin()
        .start()
        .await;
    for path in ["/probe/spin", "/probe/sleep?ms=60000"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 500, "{path}");
        assert!(response.headers().get("content-type").is_none(), "{path}");
        assert_eq!(response.text().await.unwrap(), "", "{path}");
    }
    assert_eq!(
        metric(&app, "crm_host_guest_deadline_exceeded_total").await,
        2
    );
    wait_for_metric(&app, "crm_host_guests_running", 0).await;
    assert_eq!(app.get("/hello").await.status(), 200);
}

#[tokio::test]
async fn spinning_guests_do_not_starve_other_requests() {
    let app = fixtures()
        .limits(|l| l.request_timeout = Duration::from_secs(20))
        .admin()
        .start()
        .await;
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            let url = app.url("/probe/spin");
            tokio::spawn(async move { impatient(Duration::from_secs(60)).get(url).send().await })
        })
        .collect();
    wait_for_metric(&app, "crm_host_guests_running", 4).await;
    // Long before the spinners' deadline, another route still answers.
    let hello = impatient(Duration::from_secs(5))
        .get(app.url("/hello"))
        .send()
        .await
        .expect("answered while four guests spin");
    assert_eq!(hello.status(), 200);
    for spinner in spinners {
        spinner.abort();
    }
}

#[tokio::test]
async fn a_guest_whose_client_went_away_is_stopped() {
    let app = fixtures()
        .limits(|l| l.request_timeout = Duration::from_secs(60))
        .admin()
        .start()
        .await;
    let gone = impatient(Duration::from_millis(500))
        .get(app.url("/probe/spin"))
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up");
    // Far before the 60 s deadline, nothing runs any more.
    wait_for_metric(&app, "crm_host_guests_running", 0).await;
    assert_eq!(
        metric(&app, "crm_host_guest_deadline_exceeded_total").await,
        0
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_problem_json_whether_declared_or_streamed() {
    let app = fixtures()
        .limits(|l| l.max_request_body = 1024)
        .admin()
        .start()
        .await;
    let declared = app
        .client
        .post(app.url("/probe/body-size"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    assert_eq!(
        declared.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = declared.json().await.unwrap();
    assert_eq!(problem["status"], 413, "{problem}");

    let chunks = futures::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 512])));
    let streamed = app
        .client
        .post(app.url("/probe/body-size"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(
        streamed.status(),
        413,
        "a chunked body has no length to check up front"
    );

    let small = app.post_json("/probe/body-size", "within the limit").await;
    assert_eq!(small["bytes"], 16);
    assert_eq!(
        metric(&app, "crm_host_rejected_total{limit=\"max_request_body\"}").await,
        2
    );
}

#[tokio::test]
async fn requests_over_the_in_flight_cap_get_503_with_retry_after_not_a_queue() {
    let app = fixtures()
        .limits(|l| l.max_in_flight = 2)
        .admin()
        .start()
        .await;
    let sleepers: Vec<_> = (0..2)
        .map(|_| {
            let (client, url) = (app.client.clone(), app.url("/probe/sleep?ms=1500"));
            tokio::spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    wait_for_metric(&app, "crm_host_requests_in_flight", 2).await;
    let refused = app.get("/probe/now").await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    for sleeper in sleepers {
        assert_eq!(sleeper.await.unwrap().unwrap(), 200);
    }
    assert_eq!(
        app.get("/probe/now").await.status(),
        200,
        "served again once below the cap"
    );
    assert_eq!(
        metric(&app, "crm_host_rejected_total{limit=\"max_in_flight\"}").await,
        1
    );
}

/// Everything the server sends until it closes the connection (bounded: 10 s).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received));
    match read.await {
        Ok(_) => String::from_utf8_lossy(&received).into_owned(),
        Err(_) => panic!("the server kept the connection open"),
    }
}

#[tokio::test]
async fn connections_over_the_cap_get_503_and_are_closed() {
    let app = fixtures()
        .limits(|l| l.max_connections = 3)
        .admin()
        .start()
        .await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(app.addr).await.unwrap());
    }
    wait_for_metric(&app, "crm_host_connections_open", 3).await;
    let mut extra = TcpStream::connect(app.addr).await.unwrap();
    extra
        .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut extra).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    drop(idle);
    wait_for_metric(&app, "crm_host_connections_open", 0).await;
    assert_eq!(app.get("/hello").await.status(), 200);
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off_at_the_header_read_timeout() {
    let app = fixtures()
        .limits(|l| l.header_read_timeout = Duration::from_millis(500))
        .admin()
        .start()
        .await;
    // Slowloris: a header line every 200 ms, never the blank line that ends the head.
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    let trickle = async {
        slow.write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n")
            .await?;
        for i in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            slow.write_all(format!("x-slow-{i}: y\r\n").as_bytes())
                .await?;
        }
        Ok::<_, std::io::Error>(())
    };
    assert!(
        trickle.await.is_err(),
        "the server closed the slow connection"
    );
    // An idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    wait_for_metric(&app, "crm_host_connections_open", 0).await;
}

#[tokio::test]
async fn five_hundred_idle_connections_and_a_slowloris_do_not_stop_normal_requests() {
    let app = fixtures().admin().start().await;
    let mut idle = Vec::new();
    for _ in 0..500 {
        idle.push(TcpStream::connect(app.addr).await.unwrap());
    }
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /hello HTTP/1.1\r\n").await.unwrap();
    wait_for_metric(&app, "crm_host_connections_open", 501).await;
    for _ in 0..20 {
        assert_eq!(app.get("/hello").await.status(), 200);
    }
    drop(idle);
}

#[tokio::test]
async fn a_client_that_stops_reading_loses_its_connection_at_the_write_timeout() {
    let app = fixtures()
        .limits(|l| l.write_timeout = Duration::from_millis(500))
        .admin()
        .start()
        .await;
    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    stalled
        .write_all(b"GET /probe/big?mib=64 HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    wait_for_metric(&app, "crm_host_connections_open", 1).await;
    // Never read: socket buffers fill, the write stalls, the host gives up on it.
    wait_for_metric(&app, "crm_host_connections_open", 0).await;
    wait_for_metric(&app, "crm_host_guests_running", 0).await;
    drop(stalled);
}

#[tokio::test]
async fn a_component_chaining_to_itself_is_stopped_at_the_hop_limit() {
    let app = fixtures()
        .limits(|l| l.max_chain_depth = 5)
        .admin()
        .start()
        .await;
    let body = app.get_json("/probe/recurse").await;
    assert_eq!(body["depth"], 5, "{body}");
    assert!(
        body["stopped_by"]
            .as_str()
            .unwrap_or_default()
            .contains("LoopDetected"),
        "{body}"
    );
    assert_eq!(metric(&app, "crm_host_chain_depth_exceeded_total").await, 1);
    wait_for_metric(&app, "crm_host_guests_running", 0).await;
}
