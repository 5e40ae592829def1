; Inno Setup 6.3+ script (6.3 reads UTF-8 without a BOM and knows x64compatible): turns dist\memberdesk\,
; the PyInstaller folder, into one dist\MemberDesk-<version>-setup.exe. Built on Windows after PyInstaller;
; see packaging\README.md. The version comes from pyproject.toml:
;   iscc /DAppVersion=0.1.0 packaging\windows\installer.iss
;
; The store's data (database, backups, logs, key file) lives in the user's data folder, not here, so an
; upgrade or an uninstall never touches it.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\installer.iss
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
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName} {#AppNameZh}
DisableProgramGroupPage=yes
; Per-user install without admin rights by default (a counter PC's cashier account), all users on request.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#GuiExe}
CloseApplications=yes

[Languages]
; ChineseSimplified.isl is not shipped with every Inno Setup; use it when the compiler has it.
#if FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#endif
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName} {#AppNameZh}"; Filename: "{app}\{#GuiExe}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName} {#AppNameZh}"; Filename: "{app}\{#GuiExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
