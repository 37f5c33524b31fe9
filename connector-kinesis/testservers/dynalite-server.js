#!/usr/bin/env node
// dynalite's command line (same arguments), kept alive when a client drops its connection in the middle of a
// request: dynalite 4.0.0 throws from the request's 'error' handler ("aborted", ECONNRESET), which ends the whole
// server. The tests SIGKILL client JVMs (KinesisKclProcessKillIT, the it/ crash tests) while their KCL workers talk
// to it; a dead DynamoDB server would then fail every later test of the JVM with "connection refused".
process.on('uncaughtException', function (err) {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    console.error('dynalite-server: a client dropped its connection mid-request (ignored): ' + err.message)
    return
  }
  console.error(err)
  process.exit(1)
})
require('dynalite/cli.js')
