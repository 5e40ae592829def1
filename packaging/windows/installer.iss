; Inno Setup 6.3+ script (6.3 reads UTF-8 without a BOM and knows x64compatible): turns dist\memberdesk\,
; the PyInstaller folder, into one dist\MemberDesk-<version>-setup.exe. Built on Windows after PyInstaller;
; see packaging\README.md. The version comes from pyproject.toml:
;   iscc /DAppVersion=0.1.0 packaging\windows\installer.iss
;
; A per-machine install for every account of the counter PC (an administrator installs it once): the programs in
; Program Files, shortcuts for all users, and one store for the whole PC in %ProgramData%\MemberDesk, which the
; PC's users may write (the all-users.txt beside the programs tells MemberDesk to use it). The data folder is made
; here but never removed: an upgrade or an uninstall leaves the database, its backups, the logs and the key alone.
;
; The installer speaks Simplified Chinese (English on request). Inno Setup ships no Chinese translation; put the
; unofficial one, Files/Languages/Unofficial/ChineseSimplified.isl from github.com/jrsoftware/issrc, into the
; compiler's Languages folder (the Windows CI workflow does). Without it the build stops instead of quietly
; making an English-only installer.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\installer.iss
#endif
#if !FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
  #error Languages\ChineseSimplified.isl is missing from the Inno Setup folder: see the comment at the top
#endif

#define AppName "MemberDesk"
#define AppNameZh "会员台"
#define GuiExe "MemberDesk.exe"
#define DistDir "..\..\dist\memberdesk"

[Setup]
; Never change AppId: Windows uses it to find the installed copy to upgrade.
AppId={{5E0C2A71-4B8D-4C4F-9A43-6D2E1F7B3C58}
AppName={#AppName} {#AppNameZh}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppNameZh} {#AppVersion}
AppPublisher={#AppName}
VersionInfoVersion={#AppVersion}
VersionInfoProductName={#AppName} {#AppNameZh}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName} {#AppNameZh}
DisableProgramGroupPage=yes
; Windows 10 (1809, the oldest still serviced as LTSC) or later, 64-bit.
MinVersion=10.0.17763
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\memberdesk.ico
UninstallDisplayIcon={app}\{#GuiExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
ShowLanguageDialog=auto
LanguageDetectionMethod=none

[Languages]
; The first is the default.
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Dirs]
; One store for the PC; the counter accounts are ordinary users, so they get modify rights on it.
Name: "{commonappdata}\{#AppName}"; Permissions: users-modify; Flags: uninsneveruninstall

[InstallDelete]
; An upgrade replaces the programs' own folder whole: a library or module left from the previous version must not be
; found by the new one. Only {app} is cleared; the data in {commonappdata} is never named here.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "all-users.txt"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{group}\{#AppName} {#AppNameZh}"; Filename: "{app}\{#GuiExe}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName} {#AppNameZh}"; Filename: "{app}\{#GuiExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
