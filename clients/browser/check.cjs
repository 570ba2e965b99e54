// Headless Chromium against a running service (scripts/browser, issue 14, item 7):
//
//   a. Swagger UI: sign in through "Try it out" on POST /auth/login, take the access_token
//      from the response panel, Authorize with it, then "Try it out" on GET /auth/me: 200
//      and the username in the panel.
//   b. CORS: a page from an origin the service lists (JEMBATAN_CORS_ORIGINS) makes
//      preflighted calls (bearer token, If-Match, Idempotency-Key) that succeed and reads
//      the exposed headers; a page from an origin it does not list is refused by the
//      browser (fetch rejects with TypeError, and Chromium says it was CORS).
//
//   NODE_PATH=target/clients-node/node_modules node check.cjs BASE ALLOWED_PAGE BLOCKED_PAGE SHOT_DIR
//
// Exits 1 naming the first check that failed, with a screenshot of the page in SHOT_DIR.

"use strict";
const { chromium } = require("playwright-core");
const path = require("node:path");

const [base, allowedPage, blockedPage, shotDir] = process.argv.slice(2);
if (!shotDir) {
    console.error("usage: node check.cjs BASE_URL ALLOWED_PAGE_URL BLOCKED_PAGE_URL SCREENSHOT_DIR");
    process.exit(2);
}
const USERNAME = "pemohon.dinkes";
const PASSWORD = "jembatan-demo-2026";
const TIMEOUT = 15_000;

class Failed extends Error {}
function check(ok, what) {
    if (!ok) throw new Failed(what);
    console.log(`  ok: ${what}`);
}

/** Expands an operation of Swagger UI, presses "Try it out", optionally fills the body, and
 *  executes it; returns the response panel's status code, body text and curl command. */
async function tryItOut(page, opId, body) {
    const op = page.locator(`#${opId}`);
    await op.waitFor({ timeout: TIMEOUT });
    await op.locator(".opblock-summary").first().click();
    await op.getByRole("button", { name: "Try it out" }).click();
    if (body !== undefined) {
        await op.locator("textarea.body-param__text").fill(JSON.stringify(body, null, 2));
    }
    await op.getByRole("button", { name: "Execute" }).click();
    const live = op.locator(".responses-wrapper .live-responses-table");
    const status = live.locator("tbody .response .response-col_status").first();
    await status.waitFor({ timeout: TIMEOUT });
    const code = (await status.innerText()).trim();
    const text = (await live.locator(".response-col_description .highlight-code pre").first().innerText()).trim();
    const curl = (await op.locator(".curl-command").first().innerText()).trim();
    return { code, text, curl };
}

async function swagger(browser) {
    const page = await browser.newPage();
    try {
        await page.goto(`${base}/swagger-ui/`, { timeout: TIMEOUT });
        const login = await tryItOut(page, "operations-auth-auth_login", { username: USERNAME, password: PASSWORD });
        check(login.code === "200", `Swagger UI: POST /auth/login answered ${login.code}`);
        const token = JSON.parse(login.text).access_token;
        check(typeof token === "string" && token.split(".").length === 3, "Swagger UI: the response panel shows an access_token (a JWT)");

        await page.locator(".auth-wrapper button.authorize").click();
        const dialog = page.locator(".dialog-ux .modal-ux");
        await dialog.waitFor({ timeout: TIMEOUT });
        await dialog.locator("input#auth-bearer-value").fill(token);
        const buttons = dialog.locator(".auth-btn-wrapper button");
        await buttons.filter({ hasText: /^Authorize$/ }).click();
        await buttons.filter({ hasText: /^Logout$/ }).waitFor({ timeout: TIMEOUT });
        console.log("  ok: Swagger UI: Authorize took the token");
        await buttons.filter({ hasText: /^Close$/ }).click();
        await dialog.waitFor({ state: "detached", timeout: TIMEOUT });

        const me = await tryItOut(page, "operations-auth-auth_me");
        check(me.curl.includes(`Authorization: Bearer ${token}`), "Swagger UI: GET /auth/me is sent with the bearer token");
        check(me.code === "200", `Swagger UI: GET /auth/me answered ${me.code}`);
        const who = JSON.parse(me.text);
        check(who.username === USERNAME && who.kind === "user", `Swagger UI: the response panel names ${USERNAME}`);
    } catch (e) {
        await shoot(page, "swagger-ui");
        throw e;
    } finally {
        await page.close();
    }
}

async function login() {
    const r = await fetch(`${base}/api/v1/auth/login`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
    });
    if (r.status !== 200) throw new Failed(`sign-in for the CORS pages answered ${r.status}`);
    return (await r.json()).access_token;
}

async function cors(browser) {
    const token = await login();
    const origin = (u) => new URL(u).origin;

    const page = await browser.newPage();
    const consoleLines = [];
    page.on("console", (m) => consoleLines.push(m.text()));
    try {
        await page.goto(allowedPage, { timeout: TIMEOUT });
        check(origin(page.url()) !== origin(base), `CORS: the page's origin ${origin(page.url())} is not the API's ${origin(base)}`);
        const out = await page.evaluate(([api, t]) => allowedChecks(api, t), [base, token]);
        const quoted = /^"\d+"$/;
        check(out.create.status === 201, `CORS, listed origin: POST /requests (Authorization, Idempotency-Key, JSON) answered ${out.create.status}`);
        check(quoted.test(out.create.headers.ETag ?? ""), `CORS: ETag of the created request readable (${out.create.headers.ETag})`);
        check((out.create.headers.Location ?? "").endsWith(`/requests/${out.create.body.id}`), `CORS: Location readable (${out.create.headers.Location})`);
        check(out.read.status === 200 && out.read.headers.ETag === `"${out.read.body.version}"`, `CORS: GET /requests/{id} answered ${out.read.status}, ETag ${out.read.headers.ETag} = its version`);
        check(out.update.status === 200 && out.update.headers.ETag === `"${out.read.body.version + 1}"`, `CORS: PATCH with If-Match ${out.read.headers.ETag} answered ${out.update.status}, ETag ${out.update.headers.ETag}`);
        check(out.stale.status === 412 && out.stale.body.status === 412, `CORS: PATCH with the stale If-Match answered ${out.stale.status}, a problem the page can read`);
        check(out.list.status === 200 && Array.isArray(out.list.body.items) && typeof out.list.body.next_cursor === "string",
            "CORS: a list page with its cursor (pagination is in the body, next_cursor; no Link header)");
        check(/^[0-9a-f-]{36}$/.test(out.list.headers["X-Request-Id"] ?? ""), `CORS: X-Request-Id readable (${out.list.headers["X-Request-Id"]})`);
        check(out.list.headers["X-Content-Type-Options"] === null && out.list.headers["X-Frame-Options"] === null,
            "CORS: headers the service does not expose stay hidden from the page (X-Content-Type-Options, X-Frame-Options)");
    } catch (e) {
        await shoot(page, "cors-listed");
        console.log(consoleLines.join("\n"));
        throw e;
    } finally {
        await page.close();
    }

    const other = await browser.newPage();
    const otherConsole = [];
    other.on("console", (m) => otherConsole.push(m.text()));
    try {
        await other.goto(blockedPage, { timeout: TIMEOUT });
        const from = origin(other.url());
        const results = await other.evaluate(([api, t]) => blockedChecks(api, t), [base, token]);
        for (const r of results) {
            check(r.rejected && r.name === "TypeError", `CORS, unlisted origin ${from}: ${r.what}: fetch rejected (${r.rejected ? `${r.name}: ${r.message}` : `answered ${r.status}`})`);
        }
        // A rejection could also be a network failure: Chromium names the CORS policy.
        const blocked = otherConsole.filter((l) => l.includes(`from origin '${from}' has been blocked by CORS policy`));
        check(blocked.length >= results.length, `CORS: Chromium blocked ${blocked.length} of ${results.length} calls by CORS policy`);
        console.log(`    (${blocked[0]})`);
    } catch (e) {
        await shoot(other, "cors-unlisted");
        console.log(otherConsole.join("\n"));
        throw e;
    } finally {
        await other.close();
    }
}

async function shoot(page, name) {
    const file = path.join(shotDir, `${name}-failure.png`);
    try {
        await page.screenshot({ path: file });
        console.error(`screenshot: ${file}`);
    } catch (e) {
        console.error(`no screenshot (${e.message})`);
    }
}

(async () => {
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
        headless: true,
    });
    console.log(`chromium ${browser.version()}`);
    let status = 0;
    for (const [name, run] of [["Swagger UI", swagger], ["CORS", cors]]) {
        try {
            await run(browser);
        } catch (e) {
            console.error(`browser: FAILED (${name}): ${e instanceof Failed ? e.message : e.stack}`);
            status = 1;
        }
    }
    await browser.close();
    process.exit(status);
})();
