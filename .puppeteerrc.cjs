// Never download a browser: Touchpoint drives the system Chromium (/usr/bin/chromium or PUPPETEER_EXECUTABLE_PATH).
module.exports = { skipDownload: true };
