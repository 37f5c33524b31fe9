#!/usr/bin/env node
// kinesalite (in memory) on a loopback address: kinesalite's own command line has no host option and listens on every
// interface. Arguments: --port N plus kinesalite's options (--createStreamMs, --updateStreamMs, --deleteStreamMs,
// --shardLimit). Kept alive when a client drops its connection in the middle of a request (the it/ crash test
// SIGKILLs the gateway while it reads), like dynalite-server.js.
process.on('uncaughtException', function (err) {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    console.error('kinesalite-server: a client dropped its connection mid-request (ignored): ' + err.message)
    return
  }
  console.error(err)
  process.exit(1)
})
var argv = require('minimist')(process.argv.slice(2))
var host = argv.host || '127.0.0.1'
var server = require('kinesalite')(argv).listen(argv.port || 4567, host, function () {
  var address = server.address()
  console.log('Listening at http://%s:%s', address.address, address.port)
})
