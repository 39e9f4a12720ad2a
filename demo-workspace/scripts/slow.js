'use strict';
// Prints a line a second for N seconds: something to watch running, and to cancel.
const seconds = Number(process.argv[2] || 5);
let n = 0;
const timer = setInterval(() => {
  console.log(`step ${++n}/${seconds}`);
  if (n >= seconds) clearInterval(timer);
}, 1000);
