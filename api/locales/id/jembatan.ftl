# Teks bahasa Indonesia (bahasa bawaan). Setiap pesan di sini ada juga di
# ../en/jembatan.ftl dengan placeholder yang sama (diperiksa oleh uji unit).

## Judul problem (RFC 9457 `title`), satu per jenis problem.
problem-title-bad-request = Permintaan tidak dapat dibaca
problem-title-unauthorized = Autentikasi diperlukan
problem-title-forbidden = Tidak diizinkan
problem-title-not-found = Tidak ditemukan
problem-title-method-not-allowed = Metode tidak diizinkan
problem-title-conflict = Bertentangan dengan keadaan saat ini
problem-title-precondition-failed = Prasyarat tidak terpenuhi
problem-title-payload-too-large = Muatan terlalu besar
problem-title-unsupported-media-type = Jenis media tidak didukung
problem-title-validation = Parameter permintaan Anda tidak valid
problem-title-rate-limited = Terlalu banyak permintaan
problem-title-unavailable = Layanan sementara tidak tersedia
problem-title-not-enabled = Tidak diaktifkan pada instalasi ini
problem-title-upstream-unavailable = Layanan yang menjadi sandaran tidak tersedia
problem-title-internal = Kesalahan internal server

## Rincian yang dapat dibawa setiap jenis problem.
method-not-allowed = sumber daya ini tidak mendukung metode tersebut
upstream-unavailable = { $why }; coba lagi sebentar lagi
unavailable = layanan pendukung (basis data) tidak dapat dihubungi; coba lagi sebentar lagi
internal-error = terjadi kesalahan tak terduga; kesalahan ini telah dicatat dengan id permintaan ini
unique-violation = sudah ada rekaman dengan nilai unik yang sama
not-found = { $what } tidak ditemukan
no-such-resource = sumber daya tidak ada

## Text fields and bodies
text-control-characters = tidak boleh berisi karakter kendali
text-blank = tidak boleh kosong
text-at-most = paling banyak { $max } karakter
text-between = harus 1–{ $max } karakter
text-passage-control-characters = tidak boleh berisi karakter kendali (baris baru dan tab boleh) atau penimpa arah teks (bidi)
send-json = kirim isi permintaan sebagai application/json
json-too-large = isi JSON dibatasi { $limit } bita
body-unreadable = isi permintaan tidak dapat dibaca
json-required = isi permintaan JSON wajib ada
json-malformed = JSON tidak sah: { $why }
limit-range = harus antara 1 dan { $max }
if-match-malformed = If-Match harus berupa ETag yang diberikan API ini, misalnya "3", atau *
stale-version = sumber daya telah berubah (kini versi { $current }, Anda mengirim { $sent }); muat ulang lalu coba lagi
if-match-failed = If-Match menyebut versi { $sent }, tetapi sumber daya kini versi { $current }; muat ulang lalu coba lagi
changed-meanwhile = { $what } telah berubah sementara itu; muat ulang lalu coba lagi

## Things, as "… not found" and "… changed meanwhile" name them
thing-request = permohonan
thing-closed-date = tanggal libur
thing-special-schedule = jadwal khusus
thing-notification = notifikasi
thing-organization = organisasi
thing-user = pengguna
thing-acting-assignment = penunjukan pelaksana
thing-integration = integrasi
thing-workflow = alur kerja
thing-workflow-version = versi alur kerja
thing-api-client = klien API
thing-document = dokumen
thing-checkpoint = checkpoint
thing-audit-event = peristiwa audit

## Who may call an operation (403)
policy-refused = operasi ini untuk: { $who }
policy-signed-in = pengguna atau klien API yang sudah masuk
policy-signed-in-user = pengguna yang sudah masuk (bukan klien API)
policy-official = head_of_division, head_of_agency atau technical_lead
policy-admin = admin
policy-admin-or-auditor = admin atau auditor
policy-oversight = admin, auditor, head_of_division atau head_of_agency

## Workflow refusals (the definition decides: workflow::decide)
wf-forbidden = tidak diizinkan pada langkah `{ $step }`: { $reason }
wf-conflict = permohonan berstatus { $status } pada langkah `{ $step }`: { $reason }
wf-missing = langkah `{ $step }` belum memiliki { $what }
wf-missing-document = dokumen `{ $kind }`
wf-document-required = dokumen `{ $kind }` harus diunggah untuk langkah ini
wf-output-required = `{ $kind }` wajib diisi untuk langkah ini
wf-reason-auditor = peran auditor hanya dapat membaca
wf-reason-not-applicant = hanya pemohon dari organisasi yang mengajukan yang boleh melakukannya
wf-reason-not-team = hanya Tim Integrasi permohonan ini yang bertindak pada langkah ini
wf-reason-not-actor = hanya `{ $actor }` yang bertindak pada langkah ini
wf-reason-not-addressee = disposisi menujukan langkah ini kepada orang lain
wf-reason-may-not-cancel = hanya peran yang disebut alur kerja yang boleh menutup permohonan
wf-reason-conflict-of-interest = Anda memegang peran pemohon di organisasi yang mengajukan permohonan ini; orang lain di kantor harus menindaklanjutinya
wf-reason-closed = permohonan sudah ditutup
wf-reason-wrong-status = tidak dapat dilakukan dalam status ini
wf-reason-not-current-step = langkah `{ $requested }` bukan langkah saat ini
wf-reason-step-not-in-flow = alur ini tidak memiliki langkah `{ $requested }`
wf-reason-not-returnable = langkah ini tidak dapat mengembalikan permohonan
wf-reason-not-rejectable = langkah ini tidak dapat menolak permohonan
wf-reason-office-has-acted = kantor sudah menindaklanjutinya
wf-reason-no-send-back = langkah ini tidak dapat mengirim kembali permohonan ke langkah sebelumnya
wf-reason-no-team-yet = Tim Integrasi belum dibentuk
wf-reason-not-addressed = langkah saat ini tidak ditindaklanjuti oleh penerima disposisi
wf-reason-broken-state = keadaan permohonan tidak sesuai dengan alur kerjanya

## Acting officials (Plt, Plh, delegation)
acting-not-for-clients = klien API tidak dapat menunjuk pejabat
acting-admin-or-own-delegation = hanya admin yang mencatat Plt atau Plh; pejabat hanya boleh mendelegasikan tugasnya sendiri
acting-not-back-dated = harus hari ini atau sesudahnya: penunjukan tidak berlaku surut
acting-ends-before-start = tidak boleh sebelum starts_on
acting-too-long = paling lama 366 hari setelah starts_on; perpanjang penunjukan yang lebih lama dengan surat baru
acting-for-themselves = tidak ada yang bertindak untuk dirinya sendiri
acting-not-a-post = harus jabatan kantor: head_of_division, technical_lead, technical_staff atau head_of_agency
acting-for-whom = isi for_user_id, atau for_role dengan for_organization_id
acting-only-officials-delegate = hanya pejabat pemegang jabatan kantor yang boleh mendelegasikan
acting-user-not-official = harus pengguna aktif pemegang jabatan kantor
no-such-active-user = pengguna aktif tersebut tidak ada
no-such-organization = organisasi tersebut tidak ada
acting-overlap = penunjukan { $id } ({ $from } s.d. { $to }) sudah mencakup sebagian rentang ini; akhiri dulu penunjukan itu
acting-who-ends = hanya admin yang mengakhiri Plt atau Plh; delegasi diakhiri oleh kedua pihaknya
acting-already-ended = penunjukan ini sudah berakhir

## Documents
bundle-not-logged-yet = { $waiting } peristiwa dari rekaman ini belum masuk log bertanda tangan; coba lagi beberapa detik lagi
documents-closed = permohonan berstatus { $status }; dokumennya sudah ditutup
documents-not-your-turn = hanya pelaku langkah saat ini (`{ $actor }`) yang boleh menambah dokumen sekarang
documents-kind-not-allowed = dokumen `{ $kind }` bukan bagian Anda untuk ditambahkan sekarang; Anda boleh menambah: { $allowed }
documents-too-many = permohonan ini sudah memuat { $held } dokumen, batas terbanyak untuk satu permohonan
documents-request-bytes = dokumen permohonan ini akan mencapai { $bytes } bita; satu permohonan paling banyak memuat { $most }
documents-daily-allowance = organisasi Anda sudah mengunggah { $today } bita hari ini; jatah harian adalah { $most } bita
documents-too-large = dokumen dibatasi { $limit } bita
storage-unavailable = penyimpanan dokumen tidak dapat dihubungi

## Organizations
org-code-shape = harus 2–32 huruf kapital, angka, `-` atau `_`
org-code-taken = organisasi dengan kode `{ $code }` sudah ada

## Users and passwords
password-too-short = paling sedikit { $min } karakter
password-has-username = tidak boleh memuat nama pengguna
password-repeated = tidak boleh satu karakter yang diulang
password-guessable = terlalu mudah ditebak{ $why }; pilih frasa sandi dari beberapa kata yang tidak berkaitan
user-username-shape = harus 3–64 huruf kecil, angka, `.`, `_` atau `-`
user-nip-shape = harus 18 angka
user-email-shape = harus alamat surel (lokal@domain.tld, paling banyak 254 karakter)
user-roles-empty = harus menyebut paling sedikit satu peran
user-roles-repeated = tidak boleh mengulang peran
user-roles-agency = pegawai perangkat daerah hanya dapat berperan `applicant`
active-organization-required = harus organisasi yang ada dan aktif
user-username-taken = nama pengguna `{ $username }` sudah dipakai
user-nip-taken = pengguna lain sudah memakai NIP ini
user-deactivate-self = Anda tidak dapat menonaktifkan akun Anda sendiri
user-change-own-standing = Anda tidak dapat mengubah peran atau organisasi Anda sendiri; admin lain harus melakukannya

## The office calendar
calendar-years = harus pada tahun { $first }–{ $last }
calendar-already-closed = { $date } sudah menjadi tanggal libur ({ $name }); perbaiki dengan PUT atau hapus dulu

## Electronic signatures (BSrE)
bsre-nik-shape = NIK terdiri atas 16 angka
bsre-passphrase = isi passphrase BSrE Anda (paling banyak 256 bita)
bsre-not-enabled = tanda tangan elektronik melalui BSrE tidak diaktifkan pada instalasi ini (JEMBATAN_BSRE_URL)

## Parameters
required = wajib diisi
report-bound = `{ $value }` bukan tanggal (YYYY-MM-DD) maupun waktu RFC 3339
to-after-from = harus sesudah `from`
to-not-before-from = tidak boleh sebelum `from`

## Signing in and tokens
token-required = token akses bearer wajib disertakan
token-invalid = token akses tidak sah
token-invalid-or-expired = token akses tidak sah atau sudah kedaluwarsa
token-revoked = token akses telah dicabut; silakan masuk lagi
account-deactivated = akun ini dinonaktifkan
account-organization-deactivated = organisasi akun ini dinonaktifkan
login-invalid = nama pengguna atau kata sandi salah
refresh-invalid = refresh token tidak sah, kedaluwarsa, atau sudah dipakai
login-throttled = terlalu banyak percobaan masuk yang gagal; tunggu sebelum mencoba lagi
password-change-throttled = terlalu banyak kata sandi saat ini yang salah; tunggu sebelum mencoba lagi
password-not-current = bukan kata sandi Anda saat ini
session-expired = sesi telah mencapai batas umurnya; silakan masuk lagi
client-credentials-invalid = kredensial klien tidak sah
token-requests-throttled = terlalu banyak permintaan token; tunggu sebentar sebelum mencoba lagi

## Requests, transitions, comments, the catalogue
consistency-from-shape = ukuran checkpoint dipisahkan koma
consistency-from-count = paling banyak { $most } ukuran
bundles-busy = bundel bukti lain sedang dibuat; coba lagi beberapa detik lagi
notifications-not-for-clients = notifikasi untuk orang, bukan untuk klien API
disposition-both-fields = isi `to_user_ids` atau `to_user_id`, jangan keduanya
disposition-too-many = paling banyak { $most } penerima
disposition-no-addressee = sebutkan paling sedikit satu penerima
body-too-large = isi permintaan terlalu besar
form-malformed = isi formulir tidak sah: { $why }
send-json-or-form = kirim JSON atau formulir
send-multipart = kirim dokumen sebagai multipart/form-data
multipart-malformed = isi multipart tidak sah: { $why }
document-kind-unknown = `{ $kind }` bukan jenis dokumen
document-one-file = kirim satu berkas per unggahan
document-unknown-field = kolom formulir tidak dikenal; kirim `kind` dan `file`
document-empty = kosong
comments-internal-office-only = komentar internal milik kantor; komentar Anda bersifat publik
integration-who-retires = hanya admin atau kepala bidang yang dapat menghentikan integrasi
integration-other-division = hanya bidang tujuan alur yang dapat menghentikan integrasinya
integration-already-retired = integrasi ini sudah dihentikan
client-revoked = klien yang sudah dicabut tidak dapat diganti rahasianya; buat klien baru
request-applicants-only = hanya pemohon (atau sistem perangkat daerah) yang dapat membuat permohonan
organization-deactivated = organisasi Anda dinonaktifkan
letter-date-future = tidak boleh di masa depan
named-user-not-holder = pengguna { $id } bukan { $roles } yang aktif
named-user-other-division = pengguna { $id } tidak berada di bidang tujuan alur ini
reason-required = sebutkan alasannya, untuk pemohon dan untuk catatan

## Documents (upload form)
document-kind-not-one = bukan jenis dokumen

## Requests the service cannot take as sent
path-parameter-invalid = parameter path tidak sah: { $why }
query-parameter-invalid = parameter query tidak sah: { $why }
content-type-unsupported = jenis konten tidak didukung
request-unprocessable = permintaan tidak dapat diproses
idempotency-key-shape = Idempotency-Key harus 1–255 karakter ASCII yang terlihat
idempotency-key-running = permintaan pertama dengan Idempotency-Key ini masih berjalan

## Idempotency keys
idempotency-key-secret = tidak dapat dipakai di sini: responsnya memuat rahasia yang tidak pernah disimpan untuk diputar ulang; kirim permintaan tanpa kunci ini (dan lihat daftar sumber dayanya untuk mengetahui apakah percobaan yang hilang sudah berhasil)

## Request statuses (`status_label`)
status-draft = Draf
status-in_progress = Sedang diproses
status-returned = Dikembalikan
status-rejected = Ditolak
status-withdrawn = Ditarik kembali
status-completed = Selesai
status-cancelled = Dibatalkan

## Notifications and mail (written in Indonesian, the office's language; English kept for when people choose a language)
notice-unnumbered = (draf)
notice-step = langkah { $order }: { $label }
notice-reason = Alasan: { $reason }
notice-due = Target waktu: { $due }.
notice-task-title = Tugas baru: { $number }
notice-task-body = Permohonan { $number } "{ $title }" menunggu tindakan Anda pada { $step }.
notice-team-added-title = Masuk Tim Integrasi: { $number }
notice-team-added-body = Anda ditambahkan ke Tim Integrasi permohonan { $number } "{ $title }".
notice-team-removed-title = Keluar dari Tim Integrasi: { $number }
notice-team-removed-body = Anda tidak lagi menjadi anggota Tim Integrasi permohonan { $number } "{ $title }".
notice-returned-title = Permohonan dikembalikan: { $number }
notice-returned-body = Permohonan { $number } "{ $title }" dikembalikan untuk diperbaiki.
notice-rejected-title = Permohonan ditolak: { $number }
notice-rejected-body = Permohonan { $number } "{ $title }" ditolak.
notice-cancelled-title = Permohonan dibatalkan: { $number }
notice-cancelled-body = Permohonan { $number } "{ $title }" ditutup oleh Diskominfo.
notice-completed-title = Integrasi selesai: { $number }
notice-completed-body = Permohonan { $number } "{ $title }" telah selesai: integrasi berjalan dan telah dilaporkan.
notice-moved-title = Permohonan berlanjut: { $number }
notice-moved-body = Permohonan { $number } "{ $title }" kini pada { $step }.
notice-comment-body = Komentar pada permohonan { $number } "{ $title }": { $excerpt }
notice-mentioned-title = Anda disebut: { $number }
notice-comment-title = Komentar baru: { $number }
notice-team = Tim Integrasi
sla-what = Permohonan { $number } "{ $title }", langkah { $step } ({ $label })
sla-warning-title = Segera jatuh tempo: { $number } — { $label }
sla-warning-body = { $what } menunggu tindakan Anda sejak { $started }. Standar waktu { $standard }: target { $due }, batas { $limit }.
sla-overdue-title = Terlambat: { $number } — { $label }
sla-overdue-body = { $what } melewati batas waktunya pada { $limit } (standar waktu { $standard }, dimulai { $started }).
sla-escalated-to = Telah dieskalasi ke { $role }.
sla-escalation-title = Eskalasi kepada Anda: { $number } — { $label } terlambat
sla-escalation-body = { $what }, ditangani oleh { $actor }, melewati batas waktunya pada { $limit } (standar waktu { $standard }). Anda diberi tahu sebagai { $role }, satu tingkat di atasnya.
mail-greeting = Yth. { $name },
mail-open = Buka permohonan: { $link }
mail-signature = Jembatan, Diskominfo Kabupaten Trenggalek.
mail-footer = Pesan ini dikirim otomatis; atur e-mail di profil Anda (PATCH /api/v1/auth/me).

## Cursors, calendar parameters, uploads, keys
cursor-unknown = bukan kursor yang diberikan API ini
feed-cursor-unknown = bukan kursor yang diberikan umpan ini
feed-cursor-beyond = melewati ujung log (kursor dari basis data lain?)
calendar-year-range = harus antara 1 dan 9999
calendar-due-beyond = waktu jatuh tempo melewati tahun 9999
documents-type-refused = yang diizinkan: PDF, PNG, JPEG, DOCX, XLSX, ODT, serta spesifikasi API JSON atau YAML (diperiksa dari isinya)
idempotency-key-reused = sudah dipakai untuk permintaan lain; gunakan kunci baru untuk permintaan baru
user-demo-activation = akun demo (kata sandinya dipublikasikan) tidak dapat diaktifkan; buat akun sungguhan
workflow-flow-mismatch = harus `{ $flow }`, alur pada path
workflow-no-division = tidak ada bidang dengan kode `{ $code }`
record-not-logged-yet = peristiwa rekaman ini belum masuk log bertanda tangan; coba lagi beberapa detik lagi

## Who may call an operation (webhooks)
policy-webhook-manager = admin, atau pemohon (pengguna atau klien API) untuk organisasinya sendiri

## Things (webhooks)
thing-webhook-endpoint = endpoint webhook
thing-delivery = pengiriman

## Webhooks
webhook-types-too-many = paling banyak 20 jenis
webhook-ping-not-subscribable = webhook.ping dikirim atas permintaan, tidak untuk dilanggan
webhook-own-organization = Anda hanya dapat mendaftarkan webhook untuk organisasi Anda sendiri
webhook-rotation-overlap = rahasia lama dari rotasi terakhir masih menandatangani sampai { $until }; rotasi lagi setelah itu
webhook-disabled = endpoint ini nonaktif; aktifkan dulu
webhook-message-pending = pesan ini masih menunggu dikirim
webhook-ping-pending = ping ke endpoint ini masih menunggu dikirim
webhook-url-refused = alamat ditolak: { $why }
webhook-too-many = satu organisasi paling banyak mendaftarkan { $most } endpoint webhook; hapus satu dulu
mail-webhook-disabled-subject = Webhook dinonaktifkan
mail-webhook-disabled = Webhook { $id } ({ $url }) dinonaktifkan: { $reason }.

    Peristiwa selama nonaktif tidak dikirim; ambil dari GET /api/v1/events. Aktifkan kembali dengan PATCH /api/v1/webhooks/{ $id } berisi {"{"}"enabled": true{"}"}.
organization-deactivate-own = Anda tidak dapat menonaktifkan organisasi Anda sendiri; admin lain harus melakukannya
