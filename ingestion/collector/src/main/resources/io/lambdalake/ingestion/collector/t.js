/*
 * lambda-lake browser tracker, served by the collector at /v1/t.js.
 *
 *   <script src="https://collector.example/v1/t.js" data-tracking-id="LL-1234"></script>
 *   <script>
 *     lake.track('add_to_cart', {sku: 'A-1', quantity: 2}, {value: 19.9, currency: 'EUR'});
 *     lake.setUserId('user-42');
 *   </script>
 *
 * Commands queued before the script loads are run too: window.lakeq = [['track', 'sign_up', {}]].
 * Attributes: data-tracking-id (required), data-endpoint (default: where this script came from),
 * data-page-view="off" to skip the automatic page view.
 *
 * Page views are sent automatically. Events are batched (up to 20, or after one second), sent with
 * fetch(keepalive) and retried after a 429 or 503 as Retry-After says; when the page is hidden the
 * rest goes out with navigator.sendBeacon. The client ID lives in a first-party cookie for two
 * years, the session ID in one that expires after 30 minutes without events. Bodies are sent as
 * text/plain, so browsers send them cross-origin without a CORS preflight.
 */
(function (window, document) {
  'use strict';
  if (window.lake && window.lake.version) {
    return;
  }
  var script = document.currentScript;
  if (!script) {
    var scripts = document.querySelectorAll('script[data-tracking-id]');
    script = scripts[scripts.length - 1];
  }
  if (!script || !script.getAttribute('data-tracking-id')) {
    if (window.console) {
      window.console.warn('lake tracker: the script tag needs data-tracking-id');
    }
    return;
  }

  var CLIENT_COOKIE = '_lake_cid';
  var SESSION_COOKIE = '_lake_sid';
  var CLIENT_MAX_AGE_SECONDS = 2 * 365 * 24 * 3600;
  var SESSION_MAX_AGE_SECONDS = 30 * 60;
  var MAX_BATCH = 20;
  var MAX_QUEUE = 500;
  var FLUSH_DELAY_MS = 1000;

  var trackingId = script.getAttribute('data-tracking-id');
  var endpoint = (script.getAttribute('data-endpoint') || new URL(script.src, location.href).origin)
      .replace(/\/+$/, '');
  var queue = [];
  var timer = null;
  var retryAt = 0;
  var userId = null;
  var memoryCookies = {};
  var listeners = [];

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' +
        hex.slice(16, 20) + '-' + hex.slice(20);
  }

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var equals = parts[i].indexOf('=');
      if (parts[i].slice(0, equals) === name) {
        return decodeURIComponent(parts[i].slice(equals + 1));
      }
    }
    return memoryCookies[name] || null;
  }

  function writeCookie(name, value, maxAgeSeconds) {
    memoryCookies[name] = value;
    try {
      document.cookie = name + '=' + encodeURIComponent(value) + '; Max-Age=' + maxAgeSeconds +
          '; Path=/; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
    } catch (e) {
      // cookies disabled: the IDs live as long as the page
    }
  }

  function clientId() {
    var id = readCookie(CLIENT_COOKIE) || uuid();
    writeCookie(CLIENT_COOKIE, id, CLIENT_MAX_AGE_SECONDS);
    return id;
  }

  function sessionId() {
    var id = readCookie(SESSION_COOKIE) || uuid();
    writeCookie(SESSION_COOKIE, id, SESSION_MAX_AGE_SECONDS);
    return id;
  }

  function paramsOf(params) {
    var result = {};
    if (!params) {
      return result;
    }
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      if (value !== null && value !== undefined && typeof value !== 'object' &&
          typeof value !== 'function') {
        result[key] = String(value);
      }
    });
    return result;
  }

  function notify(status, count) {
    listeners.forEach(function (listener) {
      try {
        listener(status, count);
      } catch (e) {
        // a listener's failure is its own
      }
    });
  }

  function schedule(delay) {
    if (timer === null) {
      timer = window.setTimeout(function () {
        timer = null;
        flush();
      }, delay);
    }
  }

  function requeue(batch, retryAfterSeconds) {
    queue = batch.concat(queue).slice(0, MAX_QUEUE);
    retryAt = Date.now() + retryAfterSeconds * 1000;
    schedule(retryAfterSeconds * 1000);
  }

  function post(batch) {
    var body = JSON.stringify(batch);
    if (!window.fetch) {
      beacon(batch);
      return;
    }
    window.fetch(endpoint + '/v1/batch', {
      method: 'POST',
      body: body,
      keepalive: body.length < 60000,
      mode: 'cors',
      credentials: 'omit',
      headers: {'Content-Type': 'text/plain;charset=UTF-8'}
    }).then(function (response) {
      if (response.status === 429 || response.status === 503) {
        var seconds = parseInt(response.headers.get('Retry-After'), 10);
        requeue(batch, seconds > 0 ? seconds : 5);
      }
      notify(response.status, batch.length);
    }, function () {
      requeue(batch, 5);
      notify(0, batch.length);
    });
  }

  function beacon(batch) {
    var body = JSON.stringify(batch);
    var sent = false;
    try {
      sent = navigator.sendBeacon && navigator.sendBeacon(endpoint + '/v1/batch', body);
    } catch (e) {
      sent = false;
    }
    if (!sent && window.fetch) {
      window.fetch(endpoint + '/v1/batch', {
        method: 'POST', body: body, keepalive: true, mode: 'no-cors', credentials: 'omit',
        headers: {'Content-Type': 'text/plain;charset=UTF-8'}
      }).catch(function () {});
    }
  }

  /** Sends what is queued: with fetch while the page lives, with sendBeacon when it goes away. */
  function flush(pageHidden) {
    if (!pageHidden && Date.now() < retryAt) {
      schedule(retryAt - Date.now());
      return;
    }
    while (queue.length) {
      var batch = queue.splice(0, MAX_BATCH);
      if (pageHidden) {
        beacon(batch);
      } else {
        post(batch);
      }
    }
  }

  function track(name, params, options) {
    options = options || {};
    var event = {
      event_id: uuid(),
      tracking_id: trackingId,
      event_name: String(name),
      client_id: clientId(),
      session_id: sessionId(),
      event_time: new Date().toISOString(),
      page_url: location.href,
      params: paramsOf(params)
    };
    if (document.referrer) {
      event.referrer = document.referrer;
    }
    if (userId) {
      event.user_id = userId;
    }
    if (options.value !== undefined && options.value !== null) {
      event.value = options.value;
    }
    if (options.currency) {
      event.currency = String(options.currency);
    }
    if (queue.length >= MAX_QUEUE) {
      queue.shift();
    }
    queue.push(event);
    if (queue.length >= MAX_BATCH) {
      flush();
    } else {
      schedule(FLUSH_DELAY_MS);
    }
    return event.event_id;
  }

  var lake = {
    version: '1',
    track: track,
    setUserId: function (id) {
      userId = id ? String(id) : null;
    },
    flush: function () {
      flush(false);
    },
    /** listener(status, eventCount) after each batch sent with fetch; status 0 on network errors. */
    onSent: function (listener) {
      listeners.push(listener);
    },
    clientId: clientId
  };
  window.lake = lake;

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') {
      flush(true);
    }
  });
  window.addEventListener('pagehide', function () {
    flush(true);
  });

  var commands = window.lakeq || [];
  for (var i = 0; i < commands.length; i++) {
    var command = commands[i];
    if (command && typeof lake[command[0]] === 'function') {
      lake[command[0]].apply(null, Array.prototype.slice.call(command, 1));
    }
  }
  window.lakeq = {
    push: function (command) {
      if (command && typeof lake[command[0]] === 'function') {
        lake[command[0]].apply(null, Array.prototype.slice.call(command, 1));
      }
    }
  };

  if (script.getAttribute('data-page-view') !== 'off') {
    track('page_view', {title: document.title});
    flush(false);
  }
})(window, document);
