//! The README's main job runs and tells the seeds' story: the stale save is refused with
//! client 2's item, and client 1's re-applied change lands on top of it.

use std::process::Command;

#[test]
fn lost_update_example_prevents_the_lost_update() -> Result<(), String> {
    let output = Command::new(env!("CARGO_BIN_EXE_lost_update"))
        .output()
        .map_err(|err| format!("cannot run the example: {err}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the example failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 6, "six steps: {stdout}");
    assert!(
        lines[1].contains("both read order-42 at version 1"),
        "{stdout}"
    );
    assert!(lines[2].contains("saves: version 2"), "{stdout}");
    assert!(
        lines[3].contains("refused") && lines[3].contains(r#"["van, Monday"]"#),
        "{stdout}"
    );
    assert!(lines[4].contains("version 3"), "{stdout}");
    assert!(
        lines[5].contains(r#"["van, Monday","bike, Tuesday"]"#),
        "{stdout}"
    );
    Ok(())
}
