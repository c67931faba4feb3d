//! The Node runner the interop tests and benchmarks share: the script's output comes back byte for
//! byte, and a failing script is reported with its exit status and its own error text.

use sealkit_vectors::node::{self, NodeError};

const ECHO: &str = "process.stdout.write(require('fs').readFileSync(0))";

#[test]
fn node_output_comes_back_and_failures_carry_nodes_own_message() {
    let input = b"any bytes \xff\x00 and a newline\n";
    let Some(echoed) = node::run_or_skip("node_runner", &["-e", ECHO], input) else {
        return;
    };
    assert_eq!(echoed, input);

    match node::run(&["-e", "console.error('bad input'); process.exit(3)"], b"") {
        Err(NodeError::Failed { status, stderr }) => {
            assert_eq!(status.code(), Some(3));
            // Contained, not equal: NODE_OPTIONS may add warnings of node's own.
            assert!(stderr.contains("bad input\n"), "{stderr}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // A script that exits without reading breaks the pipe under a large input: its exit is what
    // gets reported, not the write error.
    let large = vec![b'x'; 1 << 20];
    let err = node::run(&["-e", "process.exit(5)"], &large).unwrap_err();
    assert!(
        matches!(&err, NodeError::Failed { status, .. } if status.code() == Some(5)),
        "{err}"
    );
}

/// A script that prints a lot before reading its input: with the input written whole first, both
/// sides would wait on a full pipe for ever.
#[test]
fn a_script_may_print_before_it_reads() {
    // `writeSync` blocks on a full pipe, as a script printing as it goes would.
    const PRINT_THEN_READ: &str = "const fs = require('fs'); fs.writeSync(1, 'y'.repeat(1 << 20)); \
        fs.writeSync(1, String(fs.readFileSync(0).length))";
    let input = vec![b'x'; 1 << 20];
    let Some(out) = node::run_or_skip("node_runner", &["-e", PRINT_THEN_READ], &input) else {
        return;
    };
    assert_eq!(out.len(), (1 << 20) + "1048576".len());
    assert!(out.ends_with(b"1048576"));
}

/// A script that fails is a finding: the test fails with node's exit status, it is not skipped.
#[test]
fn a_failing_script_fails_the_test_rather_than_skipping_it() {
    if node::run_or_skip("node_runner", &["-e", ""], b"").is_none() {
        return;
    }
    let caught = std::panic::catch_unwind(|| {
        node::run_or_skip("node_runner", &["-e", "process.exit(4)"], b"")
    });
    let message = caught.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.starts_with("node_runner: node exit status: 4"),
        "{message}"
    );
}
