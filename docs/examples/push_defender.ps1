<#
.SYNOPSIS
  Reads Microsoft Defender's status on the organisation's computers (Get-MpComputerStatus) and
  sends it to secportal as the antivirus report (item 3), then submits it.

.DESCRIPTION
  The portal keeps one antivirus report per organisation with a row per computer, and each push
  replaces the draft's rows: run this once for all computers (for example as a scheduled task on
  an administration server that reaches the PCs over WinRM), not on each PC.
  Needs a token with the reports:write scope in $env:SECPORTAL_TOKEN (アカウント › APIトークン).
  Every POST carries an Idempotency-Key and is retried with the same key, so a retry after a
  network error never applies anything twice.

.EXAMPLE
  $env:SECPORTAL_TOKEN = 'spt_...'
  .\push_defender.ps1 -Portal https://portal.example.jp -Office 本社 -ComputerName PC-001,PC-002 -Submit
#>
param(
    [Parameter(Mandatory = $true)] [string] $Portal,
    # The office the computers stand in, by its name as registered in the portal.
    [Parameter(Mandatory = $true)] [string] $Office,
    [string[]] $ComputerName = @($env:COMPUTERNAME),
    [switch] $Submit
)
$ErrorActionPreference = 'Stop'
$token = $env:SECPORTAL_TOKEN
if (-not $token) { throw 'Set SECPORTAL_TOKEN to a token with the reports:write scope.' }

function Read-Status([string] $Computer) {
    $probe = {
        $s = Get-MpComputerStatus
        $os = Get-CimInstance Win32_OperatingSystem
        [pscustomobject]@{
            Version  = $s.AMProductVersion
            Updated  = $s.AntivirusSignatureLastUpdated
            FullScan = $s.FullScanEndTime
            Os       = "$($os.Caption) $($os.Version)"
        }
    }
    if ($Computer -eq $env:COMPUTERNAME) { & $probe } else { Invoke-Command -ComputerName $Computer -ScriptBlock $probe }
}

function Send-Json([string] $Path, $Body) {
    $headers = @{
        Authorization     = "Bearer $token"
        'Idempotency-Key' = [guid]::NewGuid().ToString()
        'Accept-Language' = 'ja'
    }
    $bytes = [Text.Encoding]::UTF8.GetBytes(($Body | ConvertTo-Json -Depth 5))
    foreach ($attempt in 0..4) {
        try {
            return Invoke-RestMethod -Method Post -Uri ($Portal.TrimEnd('/') + $Path) -Headers $headers `
                -ContentType 'application/json; charset=utf-8' -Body $bytes
        } catch {
            $status = [int] $_.Exception.Response.StatusCode
            if ($status -eq 429 -or $status -ge 500 -or $status -eq 0) { Start-Sleep -Seconds ([math]::Pow(2, $attempt)); continue }
            # Problem details (RFC 9457): title, detail, and the reasons per row and field.
            $problem = $_.ErrorDetails.Message | ConvertFrom-Json
            Write-Error ("{0}: {1}`n{2}" -f $problem.title, $problem.detail,
                (($problem.errors | ForEach-Object { "  $($_.field): $($_.message)" }) -join "`n"))
            exit 1
        }
    }
    throw 'secportal did not answer; try again later.'
}

$rows = foreach ($c in $ComputerName) {
    $s = Read-Status $c
    [ordered]@{
        host             = $c
        office           = $Office
        os               = $s.Os
        product          = 'defender'
        version          = $s.Version
        definitions_date = $s.Updated.ToString('yyyy-MM-dd')
        # Defender checks for new definitions several times a day by default.
        update_frequency = 'daily'
        last_full_scan   = if ($s.FullScan) { $s.FullScan.ToString('yyyy-MM-dd') } else { '' }
    }
}
$saved = Send-Json '/api/v1/reports/antivirus/rows' @{ rows = @($rows) }
Write-Output "$($saved.rows) computers saved in the draft"
if ($saved.stale.Count -gt 0) { Write-Warning "Definitions out of date on rows: $($saved.stale -join ', ')" }
if ($Submit) {
    $receipt = Send-Json '/api/v1/reports/antivirus/submit' @{}
    Write-Output "Submitted: receipt $($receipt.receipt_no)"
}
