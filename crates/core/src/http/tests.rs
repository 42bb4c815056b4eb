use super::*;

#[test]
fn backoff_is_full_jitter_between_half_and_the_doubling_ceiling() {
    let policy = HttpPolicy {
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(1000),
        ..HttpPolicy::default()
    };
    let engine = HttpEngine::new("http://127.0.0.1:1", policy).expect("engine");
    for (attempt, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (9, 1000)] {
        let waits: Vec<u128> = (0..200)
            .map(|_| engine.backoff(attempt).as_millis())
            .collect();
        let (low, high) = (waits.iter().min().unwrap(), waits.iter().max().unwrap());
        assert!(
            *low >= ceiling / 2,
            "attempt {attempt}: {low} ms < {} ms",
            ceiling / 2
        );
        assert!(
            *high <= ceiling,
            "attempt {attempt}: {high} ms > {ceiling} ms"
        );
        // Jitter: 200 draws from ceiling/2..=ceiling are not all alike.
        assert!(high > low, "attempt {attempt}: no jitter");
    }
}

#[test]
fn only_https_or_loopback_http_is_allowed() {
    assert!(check_base_url("https://api.example.com").is_ok());
    assert!(check_base_url("http://127.0.0.1:8080").is_ok());
    assert!(check_base_url("http://localhost:8080").is_ok());
    assert!(check_base_url("http://[::1]:1").is_ok());
    assert_eq!(
        check_base_url("http://example.com")
            .map(|_| ())
            .unwrap_err()
            .code(),
        "insecure_url"
    );
    assert_eq!(
        check_base_url("ftp://example.com")
            .map(|_| ())
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    assert_eq!(
        check_base_url("not a url").map(|_| ()).unwrap_err().code(),
        "invalid_input"
    );
}

#[test]
fn base_urls_with_user_info_query_or_fragment_are_refused() {
    for url in [
        "https://user:hunter2@api.example.com",
        "https://user@api.example.com",
        "https://:hunter2@api.example.com",
        "https://api.example.com/?token=abc",
        "https://api.example.com/?",
        "https://api.example.com/#frag",
        "http://127.0.0.1:8080/base?x=1",
    ] {
        let err = check_base_url(url).map(|_| ()).unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{url}");
        assert!(!err.to_string().contains("hunter2"), "{url}: {err}");
    }
    assert!(check_base_url("https://api.example.com/v1/").is_ok());
}

#[test]
fn retry_after_reads_seconds_and_dates() {
    assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
    let future = std::time::SystemTime::now() + Duration::from_secs(120);
    let secs = parse_retry_after(&httpdate::fmt_http_date(future))
        .expect("date")
        .as_secs();
    assert!((118..=120).contains(&secs), "{secs}");
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon"), None);
}

#[test]
fn a_body_is_named_html_or_not_json_and_never_shown() {
    let html = Answer::new(StatusCode::OK, b"<html>sign in</html>".to_vec());
    let text = Answer::new(StatusCode::OK, b"sk_secret_value".to_vec());
    assert!(html
        .json()
        .expect_err("html")
        .to_string()
        .contains("HTML page"));
    let not_json = text.json().expect_err("text").to_string();
    assert!(not_json.contains("not JSON"), "{not_json}");
    let debug = format!("{text:?}");
    assert!(
        debug.contains("200") && debug.contains("body_len: 15"),
        "{debug}"
    );
    assert!(!debug.contains("sk_secret_value"));
}

#[test]
fn answers_map_to_typed_errors() {
    let answer = |status: u16, body: &str| {
        Answer::new(
            StatusCode::from_u16(status).expect("status"),
            body.as_bytes().to_vec(),
        )
    };
    let codes: Vec<&str> = [
        answer(401, "{}"),
        answer(403, "{}"),
        answer(404, "{}"),
        answer(409, r#"{"error":{"message":"limit"}}"#),
        answer(422, r#"{"error":{"details":{"field":"name"}}}"#),
        answer(429, "{}"),
        answer(502, "<html>bad gateway</html>"),
        answer(302, ""),
    ]
    .into_iter()
    .map(|a| a.into_error().code().as_str())
    .collect();
    assert_eq!(
        codes,
        [
            "provider_unauthorized",
            "provider_forbidden",
            "not_found",
            "provider_conflict",
            "invalid_input",
            "rate_limited",
            "provider_unavailable",
            "bad_response"
        ]
    );
    let html = answer(200, "<html>hi</html>")
        .json()
        .map(|_| ())
        .unwrap_err();
    assert!(html.to_string().contains("HTML"));
}
