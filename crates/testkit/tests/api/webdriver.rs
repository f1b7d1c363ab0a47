//! The browser of the GUI tests ends with them, also when a test fails: no Chromium
//! process tree is left running after `make test`.

use testkit::webdriver::Browser;

/// The live processes (zombies aside) of the process group `group`, from /proc, once
/// a SIGKILL has had time to land (at most 5 s).
async fn settled_processes_in(group: u32) -> usize {
    let mut alive = processes_in(group);
    for _ in 0..50 {
        if alive == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        alive = processes_in(group);
    }
    alive
}

fn processes_in(group: u32) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid pgrp ...: comm may hold spaces, so after its ')'.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
            fields.first() != Some(&"Z") && fields.get(2) == Some(&group.to_string().as_str())
        })
        .count()
}

#[tokio::test]
async fn the_browser_ends_with_its_test_even_a_failing_one() {
    let browser = Browser::start().await;
    let group = browser.process_group();
    assert!(
        processes_in(group) >= 2,
        "chromedriver and Chromium run in the group"
    );
    drop(browser);
    assert_eq!(
        settled_processes_in(group).await,
        0,
        "nothing left once dropped"
    );

    // A test that panics with its browser open.
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let failing = tokio::spawn(async move {
        let browser = Browser::start().await;
        sender.send(browser.process_group()).unwrap();
        panic!("a failing test");
    });
    let group = receiver.await.unwrap();
    assert!(failing.await.unwrap_err().is_panic());
    assert_eq!(
        settled_processes_in(group).await,
        0,
        "nothing left after the panic"
    );
}
