// Writes ordinary log lines and Node.js errors to stderr, the way a Node
// service in a container does. Generator of the nodejs testdata; run it with
// `node trace.js MODE 2>&1`. Modes: logged (console.error of errors with a
// cause and extra properties), uncaught (an uncaught TypeError), rejection
// (an unhandled rejection of an Error), rejectstring (an unhandled rejection
// of a string: reported from node:internal), warning (a process warning).
'use strict';

function parse(raw) {
  return raw.order.id;
}

function load(raw) {
  try {
    return parse(raw);
  } catch (err) {
    const e = new Error(`order ${JSON.stringify(raw)} is incomplete`, { cause: err });
    e.code = 'E_ORDER';
    throw e;
  }
}

async function fetchOrder(id) {
  await new Promise((resolve) => setTimeout(resolve, 1));
  throw new RangeError(`order id ${id} out of range`);
}

const mode = process.argv[2] || 'logged';
console.error(`INFO starting mode=${mode}`);
switch (mode) {
  case 'logged':
    try {
      load({});
    } catch (err) {
      console.error('2024-05-01T12:00:00.000Z ERROR request failed:', err);
    }
    console.error('INFO next request');
    try {
      JSON.parse('{bad');
    } catch (err) {
      console.error(err);
    }
    console.error('INFO done');
    break;
  case 'uncaught':
    console.error('INFO loading');
    parse({});
    break;
  case 'rejection':
    fetchOrder(7);
    break;
  case 'rejectstring':
    console.error('INFO fetching');
    Promise.reject('order 7 not found');
    break;
  case 'warning':
    process.emitWarning('queue is 90% full', 'CapacityWarning');
    setTimeout(() => console.error('INFO done'), 10);
    break;
  default:
    throw new Error(`unknown mode ${mode}`);
}
