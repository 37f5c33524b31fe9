#!/usr/bin/env node
// kinesalite (in memory) on a loopback address: kinesalite's own command line has no host option and listens on every
// interface. Arguments: --port N plus kinesalite's options (--createStreamMs, --updateStreamMs, --deleteStreamMs,
// --shardLimit). Kept alive when a client drops its connection in the middle of a request (the it/ crash tests
// SIGKILL gateways while they read), like dynalite-server.js.
//
// ChildShards: AWS answers the GetRecords call that reaches a closed shard's end (no NextShardIterator) with the
// shard's children (`ChildShards`: ShardId, ParentShards, HashKeyRange); kinesalite 3.3.3 leaves them out. KCL 2.3+
// (KCL 3 included) treats such a response as invalid and retries the same iterator for ever ("GetRecords response is
// not valid ... childShards: []"), so a parent never ends and its children's leases are never created. This wrapper
// adds them: for a JSON GetRecords response with status 200 and no NextShardIterator it reads the stream and shard
// from the request's iterator (kinesalite's iterator format, with the key and IV its db module exports), asks this
// same server for the stream's shards (ListShards, with the client's own authorization headers), and adds every
// shard whose ParentShardId or AdjacentParentShardId is that shard, as AWS does (split: two children with one parent
// each; merge: one child with both parents). Any other response, a CBOR request (kinesalite's clients must use JSON
// anyway, -Daws.cborEnabled=false) or a failed ListShards passes through unchanged. Tested by
// connector-kinesis's KinesaliteKclReshardIT.
//
// AT_TIMESTAMP: kinesalite 3.3.3 searches the shard for the first record that arrived at or after the timestamp and
// answers from inside that search only, so when no record did (every record is older, or the shard is empty) the
// request never gets an answer and the client times out. AWS answers with an iterator at the shard's tip (the records
// that arrive after the call; none for a closed shard). This wrapper checks the shard first and answers such a request
// as LATEST, which is that iterator; any other request goes to kinesalite unchanged. Tested by connector-kinesis's
// KinesaliteDirectSourceIT (the dedup window's read-back of a parent shard asks exactly this).
process.on('uncaughtException', function (err) {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    console.error('kinesalite-server: a client dropped its connection mid-request (ignored): ' + err.message)
    return
  }
  console.error(err)
  process.exit(1)
})
var crypto = require('crypto')
var http = require('http')
var kinesaliteDb = require('kinesalite/db')
patchAtTimestamp() // before kinesalite's index loads its actions
var argv = require('minimist')(process.argv.slice(2))
var host = argv.host || '127.0.0.1'
var server = require('kinesalite')(argv)
var kinesaliteHandlers = server.listeners('request')
server.removeAllListeners('request')
server.on('request', function (req, res) {
  var target = req.headers['x-amz-target'] || ''
  var contentType = (req.headers['content-type'] || '').split(';')[0].trim()
  if (target === 'Kinesis_20131202.GetRecords' && contentType === 'application/x-amz-json-1.1') {
    addChildShards(req, res)
  }
  kinesaliteHandlers.forEach(function (h) { h.call(server, req, res) })
})
server.listen(argv.port || 4567, host, function () {
  var address = server.address()
  console.log('Listening at http://%s:%s', address.address, address.port)
})

/** Holds back a GetRecords response without NextShardIterator until its ChildShards are added. */
function addChildShards(req, res) {
  var chunks = []
  req.on('data', function (c) { chunks.push(c) })
  var end = res.end
  res.end = function (body) {
    res.end = end
    if (res.statusCode !== 200 || body == null) return end.apply(res, arguments)
    var out
    try {
      out = JSON.parse(body.toString())
    } catch (e) {
      return end.apply(res, arguments)
    }
    if (out.NextShardIterator || out.ChildShards) return end.apply(res, arguments)
    var where = iteratorShard(Buffer.concat(chunks))
    if (!where) return end.apply(res, arguments)
    listShards(req, where.stream, function (shards) {
      var children = (shards || []).filter(function (s) {
        return s.ParentShardId === where.shard || s.AdjacentParentShardId === where.shard
      }).map(function (s) {
        return {
          ShardId: s.ShardId,
          ParentShards: [s.ParentShardId, s.AdjacentParentShardId].filter(Boolean),
          HashKeyRange: s.HashKeyRange,
        }
      })
      if (!children.length) return end.call(res, body)
      out.ChildShards = children
      var json = JSON.stringify(out)
      res.setHeader('Content-Length', Buffer.byteLength(json, 'utf8'))
      end.call(res, json)
    })
  }
}

/** The stream and shard a kinesalite shard iterator points into (it holds time/stream/shard/sequence/padding). */
function iteratorShard(requestBody) {
  try {
    var iterator = Buffer.from(JSON.parse(requestBody.toString()).ShardIterator, 'base64')
    var decipher = crypto.createDecipheriv('aes-256-cbc', kinesaliteDb.ITERATOR_PWD_KEY, kinesaliteDb.ITERATOR_PWD_IV)
    var pieces = Buffer.concat([decipher.update(iterator.slice(8)), decipher.final()]).toString('utf8').split('/')
    return pieces.length === 5 ? {stream: pieces[1], shard: pieces[2]} : null
  } catch (e) {
    return null
  }
}

/** ListShards of this server for the stream; calls back with the shards, or null when the call failed. */
function listShards(req, stream, cb) {
  var payload = JSON.stringify({StreamName: stream})
  var headers = {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(payload),
    'X-Amz-Target': 'Kinesis_20131202.ListShards',
  }
  ;['authorization', 'x-amz-date', 'date'].forEach(function (h) {
    if (req.headers[h]) headers[h] = req.headers[h]
  })
  var address = server.address()
  var done = false
  function finish(shards) {
    if (!done) {
      done = true
      cb(shards)
    }
  }
  var call = http.request({host: address.address, port: address.port, method: 'POST', path: '/', headers: headers},
    function (r) {
      var parts = []
      r.on('data', function (c) { parts.push(c) })
      r.on('end', function () {
        try {
          finish(r.statusCode === 200 ? JSON.parse(Buffer.concat(parts).toString()).Shards : null)
        } catch (e) {
          finish(null)
        }
      })
      r.on('error', function () { finish(null) })
    })
  call.on('error', function (e) {
    console.error('kinesalite-server: ListShards for ChildShards failed: ' + e.message)
    finish(null)
  })
  call.end(payload)
}

/** Replaces kinesalite's GetShardIterator action by one that also answers AT_TIMESTAMP past every record. */
function patchAtTimestamp() {
  var path = require.resolve('kinesalite/actions/getShardIterator')
  var original = require(path)
  require.cache[path].exports = function getShardIterator(store, data, cb) {
    if (data.ShardIteratorType !== 'AT_TIMESTAMP' || data.Timestamp == null || data.Timestamp * 1000 > Date.now()) {
      return original(store, data, cb) // not AT_TIMESTAMP, or kinesalite's own refusal of a future timestamp
    }
    var shardIx
    try {
      shardIx = kinesaliteDb.resolveShardId(data.ShardId).shardIx
    } catch (e) {
      return original(store, data, cb) // kinesalite's own error for a bad shard id
    }
    var db
    try {
      db = store.getStreamDb(data.StreamName)
    } catch (e) {
      return original(store, data, cb)
    }
    var decided = false
    var keys = db.createReadStream({gt: kinesaliteDb.shardIxToHex(shardIx), lt: kinesaliteDb.shardIxToHex(shardIx + 1)})
    function decide(anyAtOrAfter) {
      if (decided) return
      decided = true
      if (typeof keys.destroy === 'function') keys.destroy()
      if (anyAtOrAfter) return original(store, data, cb)
      var latest = Object.assign({}, data, {ShardIteratorType: 'LATEST'})
      delete latest.Timestamp
      original(store, latest, cb)
    }
    keys.on('data', function (item) {
      if (item.value.ApproximateArrivalTimestamp >= data.Timestamp) decide(true)
    })
    keys.on('end', function () { decide(false) })
    keys.on('error', function () { decide(true) }) // kinesalite's own path reports it
  }
}
