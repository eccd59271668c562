//! SIGTERM: in-flight requests finish, and the process ends promptly even with guests
//! that never return.

use super::host_process::HostProcess;
use std::process::Command;
use std::time::Duration;

#[tokio::test]
async fn sigterm_lets_the_in_flight_request_finish_then_exits_cleanly() {
    let mut host = HostProcess::start();
    let url = format!("http://{}/probe/sleep?ms=800", host.addr);
    let slow = tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status().as_u16()) });
    tokio::time::sleep(Duration::from_millis(250)).await;
    let pid = host.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        slow.await.unwrap().expect("in-flight request completed"),
        200
    );
    let status = host.child.wait().expect("crm-host exits");
    assert!(status.success(), "exit status {status}");
    assert!(
        host.all_output().contains("Shutting down"),
        "{}",
        host.all_output()
    );
}

#[tokio::test]
async fn guests_that_never_return_neither_block_other_requests_nor_shutdown() {
    let mut host = HostProcess::start_with(&["--request-timeout", "3s"], None);
    let spin_url = format!("http://{}/probe/spin", host.addr);
    // More spinning guests than the runtime has worker threads.
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            let url = spin_url.clone();
            tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status().as_u16()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let other = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap()
        .get(format!("http://{}/hello", host.addr))
        .send()
        .await
        .expect("another route answers while guests spin");
    assert_eq!(other.status(), 200);
    let pid = host.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    for spinner in spinners {
        assert_eq!(
            spinner.await.unwrap().expect("answered"),
            500,
            "stopped at the deadline"
        );
    }
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = host.child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = exited.unwrap_or_else(|| panic!("still running:\n{}", host.all_output()));
    assert!(status.success(), "exit status {status}");
}
