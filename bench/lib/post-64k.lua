-- wrk script: POST a 64 KiB body to the path in the URL (the upstream echoes it back).
wrk.method = "POST"
wrk.body = string.rep("v", 65536)
wrk.headers["Content-Type"] = "application/octet-stream"
