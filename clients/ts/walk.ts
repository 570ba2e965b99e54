// Walks one request of an agency through the external flow, submit to completion, with a
// client generated from the service's own OpenAPI document (scripts/clients, issue 14,
// item 6): types by openapi-typescript (`jembatan-api`, generated into target/ on each run,
// never edited), calls by openapi-fetch. Compiled with `tsc --strict`: a path, field or
// enum value of the flow that the document no longer has breaks the build.
//
//   node walk.js BASE_URL        (the demo's users and password, api/src/demo.rs)
//
// Any status other than the expected one ends the walk with a message and exit code 1.

import createClient from "openapi-fetch";
import type { components, paths } from "jembatan-api";

type Schemas = components["schemas"];
type RequestView = Schemas["RequestView"];
type StepCode = NonNullable<RequestView["current_step"]>["code"];
type DocumentKind = Schemas["DocumentKind"];
type Client = ReturnType<typeof createClient<paths>>;

const base = process.argv[2];
if (!base) {
    console.error("usage: node walk.js BASE_URL");
    process.exit(2);
}
const PASSWORD = "jembatan-demo-2026";
// A minimal PDF: the service decides the type from the bytes.
const PDF = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

class Unexpected extends Error {}

/** The body of an answer with the expected status; anything else throws, naming both. */
function expect<T>(what: string, want: number, r: { data?: T; error?: unknown; response: Response }): T {
    if (r.response.status !== want) {
        const body = JSON.stringify(r.error ?? r.data ?? null);
        throw new Unexpected(`${what}: expected ${want}, got ${r.response.status}: ${body}`);
    }
    if (r.data === undefined) {
        throw new Unexpected(`${what}: ${want} without a body`);
    }
    return r.data;
}

/** Refused as expected: the status, and an RFC 9457 problem document. */
function refused(what: string, want: number, r: { data?: unknown; error?: Schemas["Problem"]; response: Response }) {
    if (r.response.status !== want || r.error === undefined || r.error.status !== want) {
        throw new Unexpected(`${what}: expected a ${want} problem, got ${r.response.status}: ${JSON.stringify(r.error ?? r.data ?? null)}`);
    }
    console.log(`  ${what}: ${want} (${r.error.title}) as expected`);
}

async function signIn(username: string): Promise<Client> {
    const anonymous = createClient<paths>({ baseUrl: base });
    const r = await anonymous.POST("/api/v1/auth/login", { body: { username, password: PASSWORD } });
    const token = expect(`sign in as ${username}`, 200, r).access_token;
    return createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${token}` } });
}

async function userId(c: Client, role: Schemas["Role"], username: string): Promise<string> {
    const r = await c.GET("/api/v1/users", { params: { query: { role, limit: 100 } } });
    const found = expect(`list ${role}s`, 200, r).items.find((u) => u.username === username);
    if (!found) throw new Unexpected(`no ${role} named ${username}`);
    return found.id;
}

async function read(c: Client, id: string): Promise<RequestView> {
    return expect("read the request", 200, await c.GET("/api/v1/requests/{id}", { params: { path: { id } } }));
}

async function attach(c: Client, id: string, kind: DocumentKind): Promise<void> {
    const r = await c.POST("/api/v1/requests/{id}/documents", {
        params: { path: { id } },
        body: { kind, file: PDF },
        bodySerializer(body) {
            const form = new FormData();
            form.append("kind", body.kind);
            form.append("file", new Blob([body.file], { type: "application/pdf" }), `${body.kind}.pdf`);
            return form;
        },
    });
    expect(`upload ${kind}`, 201, r);
}

/** Checks that the request stands at `code`, then returns the version to send. */
async function at(c: Client, id: string, code: StepCode): Promise<number> {
    const r = await read(c, id);
    if (r.current_step?.code !== code) {
        throw new Unexpected(`expected the request at ${code}, it is at ${r.current_step?.code ?? r.status}`);
    }
    return r.version;
}

/** After a transition: one version further, at the next step (or completed). */
function moved(what: string, before: number, r: RequestView, next: StepCode | "completed"): void {
    const now = r.current_step?.code ?? r.status;
    const status = next === "completed" ? "completed" : "in_progress";
    if (r.version !== before + 1 || r.status !== status || now !== next) {
        throw new Unexpected(`${what}: expected version ${before + 1}, ${status} at ${next}; got version ${r.version}, ${r.status} at ${now}`);
    }
    console.log(`  ${what}: now ${next} (version ${r.version})`);
}

const ifMatch = (version: number) => ({ "If-Match": `"${version}"` });

async function main() {
    const applicant = await signIn("pemohon.dinkes");
    const head = await signIn("kabid.aptika");
    const lead = await signIn("kasi.infra");
    const headOfAgency = await signIn("kadis");
    const teamLead = await signIn("teknisi.andi");
    const member = await signIn("teknisi.sari");
    const leadId = await userId(head, "technical_lead", "kasi.infra");
    const andiId = await userId(head, "technical_staff", "teknisi.andi");
    const sariId = await userId(head, "technical_staff", "teknisi.sari");

    const created = expect("create the request", 201, await applicant.POST("/api/v1/requests", {
        body: {
            title: "Integrasi SIMPUS (generated TypeScript client)",
            purpose: "Data kunjungan harian",
            source_system: "SIMPUS",
            target_system: "Satu Data",
            data_exchanged: "Kunjungan per puskesmas",
            letter_number: "400.7/123/406.010/2026",
            letter_date: "2026-01-05",
        },
    }));
    const id = created.id;
    if (created.status !== "draft") throw new Unexpected(`a new request is ${created.status}, not draft`);
    console.log(`  created ${id} (draft)`);

    // Step 1: submit; refused without the request letter, then with it.
    let v = created.version;
    refused("submit without the request letter", 422,
        await applicant.POST("/api/v1/requests/{id}/submit", { params: { path: { id } }, body: { version: v } }));
    await attach(applicant, id, "request_letter");
    v = await at(applicant, id, "submit");
    moved("submit", v, expect("submit", 200, await applicant.POST("/api/v1/requests/{id}/submit", {
        params: { path: { id }, header: ifMatch(v) }, body: { version: v },
    })), "disposition");

    // Step 2: the head of division disposes it to one technical lead; a stale ETag is 412.
    v = await at(head, id, "disposition");
    const disposition: Schemas["DispositionBody"] = {
        instructions: ["tindak_lanjuti", "koordinasikan"], to_user_ids: [leadId], note: "Segera", version: v,
    };
    refused("disposition with a stale If-Match", 412, await head.POST("/api/v1/requests/{id}/disposition", {
        params: { path: { id }, header: ifMatch(v - 1) }, body: disposition,
    }));
    moved("disposition", v, expect("disposition", 200, await head.POST("/api/v1/requests/{id}/disposition", {
        params: { path: { id }, header: ifMatch(v) }, body: disposition,
    })), "follow_up");

    // Steps 3 and 4: the addressed lead follows up and records the discussion.
    v = await at(lead, id, "follow_up");
    moved("follow-up", v, expect("follow-up", 200, await lead.POST("/api/v1/requests/{id}/follow-up", {
        params: { path: { id }, header: ifMatch(v) }, body: { note: "ok", version: v },
    })), "discussion");
    await attach(lead, id, "formulation");
    v = await at(lead, id, "discussion");
    moved("discussion", v, expect("discussion", 200, await lead.POST("/api/v1/requests/{id}/discussion", {
        params: { path: { id }, header: ifMatch(v) }, body: { version: v },
    })), "approval");

    // Step 5: the head of agency approves.
    v = await at(headOfAgency, id, "approval");
    moved("approval", v, expect("approval", 200, await headOfAgency.POST("/api/v1/requests/{id}/approval", {
        params: { path: { id }, header: ifMatch(v) }, body: { version: v },
    })), "team");

    // Step 6: the head of division forms the integration team.
    await attach(head, id, "api_document");
    v = await at(head, id, "team");
    moved("team", v, expect("team", 200, await head.POST("/api/v1/requests/{id}/team", {
        params: { path: { id }, header: ifMatch(v) }, body: { lead_user_id: andiId, member_user_ids: [sariId], version: v },
    })), "integration");

    // Steps 7 to 9: the team builds, tests and implements.
    v = await at(teamLead, id, "integration");
    moved("integration", v, expect("integration", 200, await teamLead.POST("/api/v1/requests/{id}/integration", {
        params: { path: { id }, header: ifMatch(v) },
        body: { base_url: "https://api.trenggalekkab.go.id/simpus/v1", version: v },
    })), "testing");
    await attach(member, id, "test_report");
    v = await at(member, id, "testing");
    moved("testing", v, expect("testing", 200, await member.POST("/api/v1/requests/{id}/testing", {
        params: { path: { id }, header: ifMatch(v) }, body: { result: "passed", version: v },
    })), "implementation");
    await attach(teamLead, id, "integration_report");
    v = await at(teamLead, id, "implementation");
    moved("implementation", v, expect("implementation", 200, await teamLead.POST("/api/v1/requests/{id}/implementation", {
        params: { path: { id }, header: ifMatch(v) }, body: { version: v },
    })), "report");

    // Step 10: the lead's final report completes it.
    await attach(lead, id, "final_report");
    v = await at(lead, id, "report");
    moved("report", v, expect("report", 200, await lead.POST("/api/v1/requests/{id}/report", {
        params: { path: { id }, header: ifMatch(v) }, body: { version: v },
    })), "completed");

    const done = await read(applicant, id);
    if (done.status !== "completed" || done.current_step != null) {
        throw new Unexpected(`the applicant reads ${done.status} at ${done.current_step?.code}`);
    }
    console.log(`ts client: ${id} walked from draft to completed`);
}

main().catch((e: unknown) => {
    console.error(`ts client: FAILED: ${e instanceof Error ? (e instanceof Unexpected ? e.message : e.stack) : String(e)}`);
    process.exit(1);
});
