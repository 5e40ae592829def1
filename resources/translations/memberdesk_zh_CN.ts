<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ActionDialog</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>That did not go through. Try again: it will not be recorded twice.</source>
        <translation>操作未完成。请再试一次：不会重复记录。</translation>
    </message>
</context>
<context>
    <name>Actions</name>
    <message>
        <source>Members with a churn warning</source>
        <translation>有流失预警的会员</translation>
    </message>
    <message>
        <source>Reading the members</source>
        <translation>正在读取会员</translation>
    </message>
    <message>
        <source>Making follow-up tasks</source>
        <translation>正在创建跟进任务</translation>
    </message>
    <message>
        <source>Writing the list</source>
        <translation>正在写入名单</translation>
    </message>
    <message>
        <source>We miss you! For the member named on the coupon.</source>
        <translation>好久不见，欢迎回来！限券上会员本人使用。</translation>
    </message>
    <message>
        <source>Win-back {date}</source>
        <translation>挽回券 {date}</translation>
    </message>
    <message>
        <source>Issuing coupons</source>
        <translation>正在发券</translation>
    </message>
    <message>
        <source>Members: {label}</source>
        <translation>会员：{label}</translation>
    </message>
    <message>
        <source>Counting…</source>
        <translation>正在统计…</translation>
    </message>
    <message>
        <source>{members} active members, {consent} of them agreed to marketing.</source>
        <translation>有效会员 {members} 位，其中 {consent} 位同意接收营销信息。</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Coupon campaign for a set</source>
        <translation>为这批会员发起优惠券活动</translation>
    </message>
    <message>
        <source>Create and issue</source>
        <translation>创建并发券</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>活动代码</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Last day</source>
        <translation>最后一天</translation>
    </message>
    <message>
        <source>Terms</source>
        <translation>使用说明</translation>
    </message>
    <message>
        <source>One coupon each for {members} active members (the campaign is active at once).</source>
        <translation>给 {members} 位有效会员每人发一张券（活动立即生效）。</translation>
    </message>
    <message>
        <source>Still loading; try again in a moment.</source>
        <translation>还在加载，请稍后再试。</translation>
    </message>
    <message>
        <source>Campaign {code}: {count} coupons issued.</source>
        <translation>活动 {code}：已发 {count} 张券。</translation>
    </message>
    <message>
        <source>Follow-up tasks for a set</source>
        <translation>为这批会员创建跟进任务</translation>
    </message>
    <message>
        <source>Create tasks</source>
        <translation>创建任务</translation>
    </message>
    <message>
        <source>A task each for the {consent} members who agreed to marketing ({members} active members in all).</source>
        <translation>为同意接收营销信息的 {consent} 位会员各建一个任务（有效会员共 {members} 位）。</translation>
    </message>
    <message>
        <source>{count} follow-up tasks created.</source>
        <translation>已创建 {count} 个跟进任务。</translation>
    </message>
    <message>
        <source>{count} already had one open.</source>
        <translation>{count} 位已有未完成的同类任务。</translation>
    </message>
    <message>
        <source>Export a contact list</source>
        <translation>导出联系名单</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Phones are written in full.</source>
        <translation>手机号完整导出。</translation>
    </message>
    <message>
        <source>Phones are masked (138****5678): your role does not see full phone numbers.</source>
        <translation>手机号已打码（138****5678）：您的角色无权查看完整手机号。</translation>
    </message>
    <message>
        <source>Only members who agreed to marketing are listed. The export is logged.</source>
        <translation>只列出同意接收营销信息的会员。本次导出会记入审计日志。</translation>
    </message>
    <message>
        <source>Excel (*.xlsx);;CSV (*.csv)</source>
        <translation>Excel (*.xlsx);;CSV (*.csv)</translation>
    </message>
    <message>
        <source>Choose the file to write.</source>
        <translation>请选择要写入的文件。</translation>
    </message>
    <message>
        <source>{count} contacts written to {file}.</source>
        <translation>已将 {count} 位联系人写入 {file}。</translation>
    </message>
    <message>
        <source>Coupon campaign…</source>
        <translation>优惠券活动…</translation>
    </message>
    <message>
        <source>Follow-up tasks…</source>
        <translation>跟进任务…</translation>
    </message>
    <message>
        <source>Export contacts…</source>
        <translation>导出联系名单…</translation>
    </message>
</context>
<context>
    <name>AddStaffDialog</name>
    <message>
        <source>Add a staff account</source>
        <translation>添加员工账号</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Letters, digits or _, e.g. cashier3</source>
        <translation>字母、数字或下划线，例如 cashier3</translation>
    </message>
    <message>
        <source>As shown on screen and in the records</source>
        <translation>显示在屏幕和记录中的姓名</translation>
    </message>
    <message>
        <source>Username</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>PIN</source>
        <translation>PIN 码</translation>
    </message>
    <message>
        <source>Added {name}.</source>
        <translation>已添加{name}。</translation>
    </message>
</context>
<context>
    <name>AdjustDialog</name>
    <message>
        <source>Adjust points</source>
        <translation>调整积分</translation>
    </message>
    <message>
        <source>Adjust</source>
        <translation>调整</translation>
    </message>
    <message>
        <source>{name} · balance {points} points</source>
        <translation>{name} · 积分余额 {points}</translation>
    </message>
    <message>
        <source>Positive adds points, negative takes them away</source>
        <translation>正数增加积分，负数扣减积分</translation>
    </message>
    <message>
        <source>Required, e.g. points missed on receipt 1234</source>
        <translation>必填，例如：小票 1234 漏积分</translation>
    </message>
    <message>
        <source>A manager types their PIN</source>
        <translation>请店长输入其 PIN 码</translation>
    </message>
    <message>
        <source>Points (+/−)</source>
        <translation>积分（+/−）</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Manager PIN</source>
        <translation>店长 PIN 码</translation>
    </message>
    <message>
        <source>Enter the reason for the adjustment.</source>
        <translation>请填写调整原因。</translation>
    </message>
    <message>
        <source>Points adjusted by {delta}; balance {balance}.</source>
        <translation>积分已调整 {delta}，余额 {balance}。</translation>
    </message>
</context>
<context>
    <name>AnalysisView</name>
    <message>
        <source>Complaints</source>
        <translation>投诉</translation>
    </message>
    <message>
        <source>Still open</source>
        <translation>未结</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>已解决</translation>
    </message>
    <message>
        <source>Median hours to resolve</source>
        <translation>解决用时中位数（小时）</translation>
    </message>
    <message>
        <source>Member no.</source>
        <translation>会员编号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Last</source>
        <translation>最近</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>This month</source>
        <translation>本月</translation>
    </message>
    <message>
        <source>Last month</source>
        <translation>上月</translation>
    </message>
    <message>
        <source>Change</source>
        <translation>变化</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>By the chosen dimension</source>
        <translation>按所选维度的统计</translation>
    </message>
    <message>
        <source>Top issues</source>
        <translation>主要问题</translation>
    </message>
    <message>
        <source>By</source>
        <translation>按</translation>
    </message>
    <message>
        <source>Repeat complainers</source>
        <translation>多次投诉的会员</translation>
    </message>
    <message>
        <source>Top issues: this month (blue) and last month (grey)</source>
        <translation>主要问题：本月（蓝）与上月（灰）</translation>
    </message>
    <message>
        <source>{count} complaints in the period</source>
        <translation>期间共 {count} 条投诉</translation>
    </message>
</context>
<context>
    <name>AnonymiseDialog</name>
    <message>
        <source>Delete a member&apos;s personal data</source>
        <translation>删除会员个人信息</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>{who}: name, phone, ID number, birthday, card, notes and tags are erased for good. Purchases and points stay in the books under the member number, which no longer names anyone.</source>
        <translation>{who}：姓名、手机号、身份证号、生日、卡号、备注和标签将被永久清除。消费与积分以会员编号留在账上，但不再能识别到本人。</translation>
    </message>
    <message>
        <source>At the member&apos;s request</source>
        <translation>会员本人申请</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>The member&apos;s personal data was deleted.</source>
        <translation>该会员的个人信息已删除。</translation>
    </message>
</context>
<context>
    <name>Application</name>
    <message>
        <source>Store time {store} · this PC {pc}</source>
        <translation>门店时间 {store} · 本机 {pc}</translation>
    </message>
    <message>
        <source>This PC&apos;s clock is set to {pc}; times are shown in the store&apos;s time ({store}).</source>
        <translation>本机时钟设置为 {pc}；时间按门店时区（{store}）显示。</translation>
    </message>
</context>
<context>
    <name>AuditPage</name>
    <message>
        <source>Record number</source>
        <translation>记录编号</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>From</source>
        <translation>从</translation>
    </message>
    <message>
        <source>to</source>
        <translation>至</translation>
    </message>
    <message>
        <source>Staff</source>
        <translation>经办人</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Record</source>
        <translation>记录</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Branch</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>序号</translation>
    </message>
    <message>
        <source>Details (before / after)</source>
        <translation>详情（修改前 / 修改后）</translation>
    </message>
    <message>
        <source>Verify the chain</source>
        <translation>校验日志链</translation>
    </message>
    <message>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>{count} entries</source>
        <translation>共 {count} 条</translation>
    </message>
    <message>
        <source>Chain head of {branch}: entry {seq}, {hash}</source>
        <translation>{branch} 日志链末端：第 {seq} 条，{hash}</translation>
    </message>
    <message>
        <source>Write the head down or print it: with it, nobody can later rewrite the log unnoticed.</source>
        <translation>请抄下或打印日志链末端：有了它，日后任何人改写日志都会被发现。</translation>
    </message>
    <message>
        <source>The audit chain is intact and vouches for every sale and points entry.</source>
        <translation>审计日志链完好，每笔消费和积分记录都有据可查。</translation>
    </message>
</context>
<context>
    <name>BackupPage</name>
    <message>
        <source>A folder, e.g. a USB stick</source>
        <translation>文件夹，例如U盘</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Back up now</source>
        <translation>立即备份</translation>
    </message>
    <message>
        <source>Back up to</source>
        <translation>备份到</translation>
    </message>
    <message>
        <source>Every day the first counter to start makes an automatic copy in the data folder (kept: 7 days, 4 weeks, 12 months). Copy to a USB stick too: a copy on the same disk dies with it. The ID-number key is written beside the copy; keep the stick somewhere safe.</source>
        <translation>每天第一台启动的收银机会在数据文件夹中自动备份（保留 7 天、4 周、12 个月）。请再备份到U盘：同一块硬盘上的备份会随硬盘一起损坏。身份证号密钥会写在备份旁边，请妥善保管U盘。</translation>
    </message>
    <message>
        <source>Backup</source>
        <translation>备份</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>A backup file, or select one above</source>
        <translation>备份文件，或在上方选择</translation>
    </message>
    <message>
        <source>Restore…</source>
        <translation>恢复…</translation>
    </message>
    <message>
        <source>Restore from</source>
        <translation>恢复自</translation>
    </message>
    <message>
        <source>Only the owner restores a backup.</source>
        <translation>只有老板可以恢复备份。</translation>
    </message>
    <message>
        <source>Backups (*.sqlite3)</source>
        <translation>备份文件 (*.sqlite3)</translation>
    </message>
    <message>
        <source>No such folder: {folder}</source>
        <translation>文件夹不存在：{folder}</translation>
    </message>
    <message>
        <source>Backed up and verified: {path} ({size}, {members} members).</source>
        <translation>已备份并校验：{path}（{size}，{members} 位会员）。</translation>
    </message>
</context>
<context>
    <name>CallDialog</name>
    <message>
        <source>Follow-up call</source>
        <translation>回访电话</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Required: what the customer said</source>
        <translation>必填：顾客的反馈</translation>
    </message>
    <message>
        <source>Not asked</source>
        <translation>未询问</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>回访结果</translation>
    </message>
    <message>
        <source>Satisfaction</source>
        <translation>满意度</translation>
    </message>
    <message>
        <source>Write down how the call went.</source>
        <translation>请填写回访情况。</translation>
    </message>
    <message>
        <source>Call recorded.</source>
        <translation>回访已记录。</translation>
    </message>
</context>
<context>
    <name>CampaignDialog</name>
    <message>
        <source>New campaign</source>
        <translation>新建活动</translation>
    </message>
    <message>
        <source>Edit campaign</source>
        <translation>编辑活动</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>e.g. MJ100-20 (letters, digits, - or _)</source>
        <translation>例如 MJ100-20（字母、数字、- 或 _）</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>不限</translation>
    </message>
    <message>
        <source>Category codes, e.g. TOBACCO (their goods do not count)</source>
        <translation>品类代码，例如 TOBACCO（这些商品不计入）</translation>
    </message>
    <message>
        <source>Printed on the coupon, e.g. 每单限用一张，不找零</source>
        <translation>印在券上，例如：每单限用一张，不找零</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>活动代码</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Amount off (¥)</source>
        <translation>减免金额（元）</translation>
    </message>
    <message>
        <source>Percent off</source>
        <translation>折扣</translation>
    </message>
    <message>
        <source>At most (¥, 0: no cap)</source>
        <translation>最多减（元，0 为不封顶）</translation>
    </message>
    <message>
        <source>Points multiplier</source>
        <translation>积分倍数</translation>
    </message>
    <message>
        <source>Gift</source>
        <translation>赠品</translation>
    </message>
    <message>
        <source>Minimum spend (¥)</source>
        <translation>最低消费（元）</translation>
    </message>
    <message>
        <source>First day</source>
        <translation>开始日期</translation>
    </message>
    <message>
        <source>Last day</source>
        <translation>结束日期</translation>
    </message>
    <message>
        <source>For</source>
        <translation>发放对象</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>发行数量</translation>
    </message>
    <message>
        <source>Per member</source>
        <translation>每人限领</translation>
    </message>
    <message>
        <source>Excluded categories</source>
        <translation>不参与的品类</translation>
    </message>
    <message>
        <source>Terms</source>
        <translation>使用条款</translation>
    </message>
    <message>
        <source>Gift&apos;s value (¥)</source>
        <translation>赠品价值（元）</translation>
    </message>
    <message>
        <source>Campaign {name} saved.</source>
        <translation>活动“{name}”已保存。</translation>
    </message>
</context>
<context>
    <name>CampaignsPage</name>
    <message>
        <source>Code</source>
        <translation>活动代码</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Offer</source>
        <translation>优惠</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Valid</source>
        <translation>有效期</translation>
    </message>
    <message>
        <source>Issued</source>
        <translation>已发放</translation>
    </message>
    <message>
        <source>Printed</source>
        <translation>已打印</translation>
    </message>
    <message>
        <source>Redeemed</source>
        <translation>已核销</translation>
    </message>
    <message>
        <source>Rate</source>
        <translation>核销率</translation>
    </message>
    <message>
        <source>New…</source>
        <translation>新建…</translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation>编辑…</translation>
    </message>
    <message>
        <source>Activate</source>
        <translation>启用</translation>
    </message>
    <message>
        <source>Issue…</source>
        <translation>发放…</translation>
    </message>
    <message>
        <source>Print…</source>
        <translation>打印…</translation>
    </message>
    <message>
        <source>End</source>
        <translation>结束</translation>
    </message>
    <message>
        <source>Export coupons…</source>
        <translation>导出券码…</translation>
    </message>
    <message>
        <source>Export figures…</source>
        <translation>导出统计…</translation>
    </message>
    <message>
        <source>Only not yet printed</source>
        <translation>只打印未打印过的</translation>
    </message>
    <message>
        <source>Print on</source>
        <translation>打印到</translation>
    </message>
    <message>
        <source>Figures</source>
        <translation>统计</translation>
    </message>
    <message>
        <source>Printed (reprints)</source>
        <translation>已打印（重印）</translation>
    </message>
    <message>
        <source>Redemption rate</source>
        <translation>核销率</translation>
    </message>
    <message>
        <source>Voided / expired</source>
        <translation>作废 / 过期</translation>
    </message>
    <message>
        <source>Sales with the coupon</source>
        <translation>用券消费笔数</translation>
    </message>
    <message>
        <source>Their amount</source>
        <translation>用券消费金额</translation>
    </message>
    <message>
        <source>Discount given</source>
        <translation>优惠金额</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>CSV or Excel (*.csv *.xlsx)</source>
        <translation>CSV 或 Excel (*.csv *.xlsx)</translation>
    </message>
    <message>
        <source>{count} rows written to {path}.</source>
        <translation>已写入 {count} 行到 {path}。</translation>
    </message>
    <message>
        <source>Exporting {file}</source>
        <translation>正在导出 {file}</translation>
    </message>
</context>
<context>
    <name>Care</name>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Product or supplier</source>
        <translation>商品或供应商</translation>
    </message>
    <message>
        <source>Branch</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>Staff</source>
        <translation>员工</translation>
    </message>
    <message>
        <source>Number</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Logged</source>
        <translation>登记时间</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>严重程度</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>渠道</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>负责人</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>处理期限</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>已解决</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>已超期</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>待处理</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>处理中</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已结案</translation>
    </message>
    <message>
        <source>Goodwill for complaint #{number}: {subject}</source>
        <translation>投诉 #{number} 补偿：{subject}</translation>
    </message>
    <message>
        <source>Assigned to {name}</source>
        <translation>指派给 {name}</translation>
    </message>
    <message>
        <source>Call back: {subject}</source>
        <translation>回访：{subject}</translation>
    </message>
    <message>
        <source>Rating 1–5</source>
        <translation>评分 1–5</translation>
    </message>
    <message>
        <source>Recommend 0–10 (NPS)</source>
        <translation>推荐度 0–10（NPS）</translation>
    </message>
    <message>
        <source>Single choice</source>
        <translation>单选</translation>
    </message>
    <message>
        <source>Multiple choice</source>
        <translation>多选</translation>
    </message>
    <message>
        <source>Short text</source>
        <translation>简答</translation>
    </message>
    <message>
        <source>Counter</source>
        <translation>柜台</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>电话</translation>
    </message>
    <message>
        <source>WeChat</source>
        <translation>微信</translation>
    </message>
    <message>
        <source>Online</source>
        <translation>网上</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>Low</source>
        <translation>低</translation>
    </message>
    <message>
        <source>Medium</source>
        <translation>中</translation>
    </message>
    <message>
        <source>High</source>
        <translation>高</translation>
    </message>
    <message>
        <source>channels</source>
        <translation>渠道</translation>
    </message>
    <message>
        <source>categories</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Section</source>
        <translation>部分</translation>
    </message>
    <message>
        <source>Item</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>Answers</source>
        <translation>回答数</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Overall</source>
        <translation>总体</translation>
    </message>
    <message>
        <source>Responses</source>
        <translation>答卷数</translation>
    </message>
    <message>
        <source>Trend</source>
        <translation>趋势</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>平均分</translation>
    </message>
    <message>
        <source>Survey form {form} returned</source>
        <translation>问卷 {form} 已交回</translation>
    </message>
</context>
<context>
    <name>CareExport</name>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>{count} rows saved to {file}</source>
        <translation>已保存 {count} 行到 {file}</translation>
    </message>
</context>
<context>
    <name>CareSettingsDialog</name>
    <message>
        <source>Complaint and survey settings</source>
        <translation>投诉与问卷设置</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Categories (one a line)</source>
        <translation>类别（每行一个）</translation>
    </message>
    <message>
        <source>Channels (one a line)</source>
        <translation>渠道（每行一个）</translation>
    </message>
    <message>
        <source>Hours to resolve: high</source>
        <translation>处理时限（小时）：高</translation>
    </message>
    <message>
        <source>Hours to resolve: medium</source>
        <translation>处理时限（小时）：中</translation>
    </message>
    <message>
        <source>Hours to resolve: low</source>
        <translation>处理时限（小时）：低</translation>
    </message>
    <message>
        <source>Call back after (days)</source>
        <translation>回访间隔（天）</translation>
    </message>
    <message>
        <source>Points for a returned survey form</source>
        <translation>交回问卷奖励积分</translation>
    </message>
    <message>
        <source>Settings saved.</source>
        <translation>设置已保存。</translation>
    </message>
</context>
<context>
    <name>CategoryLine</name>
    <message>
        <source>Remove this line (Delete)</source>
        <translation>删除此行（Delete）</translation>
    </message>
</context>
<context>
    <name>CategoryLines</name>
    <message>
        <source>Lines by category</source>
        <translation>按品类录入</translation>
    </message>
    <message>
        <source>Add a line ({key})</source>
        <translation>添加一行（{key}）</translation>
    </message>
    <message>
        <source>The amount is the sum of the lines.</source>
        <translation>金额为各行之和。</translation>
    </message>
    <message>
        <source>{category} (no points)</source>
        <translation>{category}（不积分）</translation>
    </message>
</context>
<context>
    <name>ChangePinDialog</name>
    <message>
        <source>Change my PIN</source>
        <translation>修改我的 PIN 码</translation>
    </message>
    <message>
        <source>Change PIN</source>
        <translation>修改 PIN 码</translation>
    </message>
    <message>
        <source>{name} ({role})</source>
        <translation>{name}（{role}）</translation>
    </message>
    <message>
        <source>You still sign in with the store&apos;s starting PIN, which anyone can look up. Choose your own PIN now, so nobody else can work in your name.</source>
        <translation>您仍在使用门店的初始 PIN 码登录，任何人都能查到它。请现在设置您自己的 PIN 码，以免他人以您的名义操作。</translation>
    </message>
    <message>
        <source>Later</source>
        <translation>稍后</translation>
    </message>
    <message>
        <source>Current PIN</source>
        <translation>当前 PIN 码</translation>
    </message>
    <message>
        <source>New PIN</source>
        <translation>新 PIN 码</translation>
    </message>
    <message>
        <source>Enter your current PIN.</source>
        <translation>请输入当前 PIN 码。</translation>
    </message>
    <message>
        <source>Your PIN was changed.</source>
        <translation>您的 PIN 码已修改。</translation>
    </message>
</context>
<context>
    <name>ChartMembersDialog</name>
    <message>
        <source>{count} members; the first {shown} by member number are listed.</source>
        <translation>共 {count} 位会员；按会员号列出前 {shown} 位。</translation>
    </message>
    <message>
        <source>{count} members.</source>
        <translation>共 {count} 位会员。</translation>
    </message>
    <message>
        <source>No member is behind this figure.</source>
        <translation>这个数字背后没有会员。</translation>
    </message>
    <message>
        <source>Member no.</source>
        <translation>会员号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Act on all {count}…</source>
        <translation>对这 {count} 位会员…</translation>
    </message>
    <message>
        <source>A coupon campaign for exactly these members, follow-up tasks, or a contact list.</source>
        <translation>为正是这些会员发优惠券活动、建跟进任务，或导出联系名单。</translation>
    </message>
</context>
<context>
    <name>Charts</name>
    <message>
        <source>Nothing in this period.</source>
        <translation>这段时间没有数据。</translation>
    </message>
    <message>
        <source>Top share of buying members (%)</source>
        <translation>消费会员中排名靠前的比例（%）</translation>
    </message>
    <message>
        <source>Share of member sales (%)</source>
        <translation>占会员销售额的比例（%）</translation>
    </message>
    <message>
        <source>Day</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Week (from Monday)</source>
        <translation>周（自周一起）</translation>
    </message>
    <message>
        <source>Month</source>
        <translation>月份</translation>
    </message>
    <message>
        <source>Sales (yuan)</source>
        <translation>销售额（元）</translation>
    </message>
    <message>
        <source>Whole calendar months of the period are counted, sales not returned.</source>
        <translation>按期间所含的整个自然月计算，已退货的销售不计。</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Member share (%)</source>
        <translation>会员占比（%）</translation>
    </message>
    <message>
        <source>Liability (yuan)</source>
        <translation>积分负债（元）</translation>
    </message>
    <message>
        <source>Sales net of returns (a return counts on its own day), in yuan; {n} purchases.</source>
        <translation>销售额已扣除退货（退货计入退货当天），单位：元；共 {n} 笔消费。</translation>
    </message>
    <message>
        <source>Member sales</source>
        <translation>会员销售额</translation>
    </message>
    <message>
        <source>Walk-in sales</source>
        <translation>非会员销售额</translation>
    </message>
    <message>
        <source>Purchases</source>
        <translation>消费笔数</translation>
    </message>
    <message>
        <source>{members} buying members; the top {pct}% bring {share:.1f}% of their sales.</source>
        <translation>共 {members} 位消费会员；前 {pct}% 的会员贡献了 {share:.1f}% 的会员销售额。</translation>
    </message>
    <message>
        <source>Liability: outstanding points at the end of each period at {points} points = ¥1.</source>
        <translation>积分负债：每期期末未使用积分，按 {points} 积分 = ¥1 折算。</translation>
    </message>
    <message>
        <source>Outstanding now: {points} points, ¥{yuan}.</source>
        <translation>当前未使用积分：{points} 分，合 ¥{yuan}。</translation>
    </message>
    <message>
        <source>Issued</source>
        <translation>发放</translation>
    </message>
    <message>
        <source>Redeemed</source>
        <translation>兑换</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>过期</translation>
    </message>
    <message>
        <source>Outstanding</source>
        <translation>未使用</translation>
    </message>
    <message>
        <source>Score (%)</source>
        <translation>得分（%）</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Complaints</source>
        <translation>投诉数</translation>
    </message>
    <message>
        <source>ISO week</source>
        <translation>周（ISO）</translation>
    </message>
    <message>
        <source>Median hours to resolve</source>
        <translation>处理时长中位数（小时）</translation>
    </message>
    <message>
        <source>Hours to resolve: from logging to resolving, of the complaints resolved.</source>
        <translation>处理时长：从登记到解决，只计已解决的投诉。</translation>
    </message>
    <message>
        <source>No complaint in this period.</source>
        <translation>这段时间没有投诉。</translation>
    </message>
    <message>
        <source>No survey answered yet.</source>
        <translation>还没有收回的问卷。</translation>
    </message>
    <message>
        <source>Answers</source>
        <translation>答卷数</translation>
    </message>
    <message>
        <source>No survey answered in this period.</source>
        <translation>这段时间没有收回的问卷。</translation>
    </message>
    <message>
        <source>Survey {code}: {n} answers in the period; CSAT {csat}, NPS {nps}.</source>
        <translation>问卷 {code}：本期 {n} 份答卷；CSAT {csat}，NPS {nps}。</translation>
    </message>
    <message>
        <source>Customer pyramid</source>
        <translation>客户金字塔</translation>
    </message>
    <message>
        <source>RFM classes</source>
        <translation>RFM 分类</translation>
    </message>
    <message>
        <source>Recency × frequency</source>
        <translation>最近消费 × 消费频次</translation>
    </message>
    <message>
        <source>Lifecycle stages</source>
        <translation>生命周期阶段</translation>
    </message>
    <message>
        <source>Lifecycle moves by month</source>
        <translation>生命周期逐月变化</translation>
    </message>
    <message>
        <source>Sales trend</source>
        <translation>销售趋势</translation>
    </message>
    <message>
        <source>Pareto curve</source>
        <translation>帕累托曲线</translation>
    </message>
    <message>
        <source>Points and liability</source>
        <translation>积分与负债</translation>
    </message>
    <message>
        <source>Tier distribution</source>
        <translation>等级分布</translation>
    </message>
    <message>
        <source>Tier moves by month</source>
        <translation>等级升降</translation>
    </message>
    <message>
        <source>New members</source>
        <translation>新会员</translation>
    </message>
    <message>
        <source>Complaints by category</source>
        <translation>投诉类别</translation>
    </message>
    <message>
        <source>CSAT and NPS trend</source>
        <translation>CSAT 与 NPS 趋势</translation>
    </message>
    <message>
        <source>By day</source>
        <translation>按日</translation>
    </message>
    <message>
        <source>By week</source>
        <translation>按周</translation>
    </message>
    <message>
        <source>By month</source>
        <translation>按月</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>会员数</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Members in each tier today; the period filter does not apply.</source>
        <translation>今天各等级的会员数；期间筛选对此图不适用。</translation>
    </message>
    <message>
        <source>No members yet.</source>
        <translation>还没有会员。</translation>
    </message>
    <message>
        <source>Moved up</source>
        <translation>升级</translation>
    </message>
    <message>
        <source>Moved down</source>
        <translation>降级</translation>
    </message>
    <message>
        <source>No tier changed in this period.</source>
        <translation>这段时间没有会员等级变化。</translation>
    </message>
    <message>
        <source>Joined by themselves</source>
        <translation>自行入会</translation>
    </message>
    <message>
        <source>Referred</source>
        <translation>会员推荐</translation>
    </message>
    <message>
        <source>{n} new members, {referred} of them referred by a member.</source>
        <translation>新会员 {n} 位，其中 {referred} 位由会员推荐。</translation>
    </message>
    <message>
        <source>Segments have not been computed yet: refresh them on the Segments page.</source>
        <translation>尚未计算客户分群：请在“客户分群”页面刷新。</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>层级</translation>
    </message>
    <message>
        <source>RFM class</source>
        <translation>RFM 分类</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>阶段</translation>
    </message>
    <message>
        <source>Frequency score (5 = most often)</source>
        <translation>频次得分（5 = 最常来）</translation>
    </message>
    <message>
        <source>Recency score (5 = most recent)</source>
        <translation>最近消费得分（5 = 最近来过）</translation>
    </message>
    <message>
        <source>Segments as of {date} (the latest refresh); the period filter does not apply.</source>
        <translation>客户分群截至 {date}（最近一次刷新）；期间筛选对此图不适用。</translation>
    </message>
    <message>
        <source>No member of this branch has a segment.</source>
        <translation>本门店的会员还没有分群结果。</translation>
    </message>
    <message>
        <source>No member of this branch has bought yet.</source>
        <translation>本门店的会员还没有消费。</translation>
    </message>
    <message>
        <source>Members who moved</source>
        <translation>变动的会员数</translation>
    </message>
    <message>
        <source>A click lists who moved into that stage that month (worked out again from the monthly totals; on a big store this takes a few seconds).</source>
        <translation>点击可列出当月转入该阶段的会员（按月度汇总重新推算；大门店需要几秒钟）。</translation>
    </message>
    <message>
        <source>Moves as of {date}, counted for the whole store by the segment refresh.</source>
        <translation>截至 {date} 的阶段变化，由客户分群刷新按全店统计。</translation>
    </message>
    <message>
        <source>No member changed stage in the last 12 months.</source>
        <translation>近 12 个月没有会员改变阶段。</translation>
    </message>
    <message>
        <source>Into: {stage}</source>
        <translation>转为：{stage}</translation>
    </message>
    <message>
        <source>The period ends before it starts.</source>
        <translation>结束日期早于开始日期。</translation>
    </message>
    <message>
        <source>The period is in the future: nothing has happened yet.</source>
        <translation>所选期间在未来：还没有发生任何数据。</translation>
    </message>
</context>
<context>
    <name>ChartsPage</name>
    <message>
        <source>Charts</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>Last 12 weeks</source>
        <translation>最近 12 周</translation>
    </message>
    <message>
        <source>Last 12 months</source>
        <translation>最近 12 个月</translation>
    </message>
    <message>
        <source>This year</source>
        <translation>今年</translation>
    </message>
    <message>
        <source>All time</source>
        <translation>全部时间</translation>
    </message>
    <message>
        <source>Chosen days</source>
        <translation>自选日期</translation>
    </message>
    <message>
        <source>All branches</source>
        <translation>全部门店</translation>
    </message>
    <message>
        <source>Most answered</source>
        <translation>回答最多的问卷</translation>
    </message>
    <message>
        <source>Survey</source>
        <translation>问卷</translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation>导出 PNG…</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Period</source>
        <translation>期间</translation>
    </message>
    <message>
        <source>From</source>
        <translation>从</translation>
    </message>
    <message>
        <source>To</source>
        <translation>到</translation>
    </message>
    <message>
        <source>Branch</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Point at a bar or a cell for its figures; click it to list those members.</source>
        <translation>鼠标指向柱形或格子可看数字；点击可列出这些会员。</translation>
    </message>
    <message>
        <source>{title} ({code}), {n} answers</source>
        <translation>{title}（{code}），{n} 份回答</translation>
    </message>
    <message>
        <source>Export PNG</source>
        <translation>导出 PNG</translation>
    </message>
    <message>
        <source>Saved to {file}</source>
        <translation>已保存到 {file}</translation>
    </message>
    <message>
        <source>Could not write {file}.</source>
        <translation>无法写入 {file}。</translation>
    </message>
</context>
<context>
    <name>ChoicePage</name>
    <message>
        <source>Welcome to MemberDesk</source>
        <translation>欢迎使用会员台</translation>
    </message>
    <message>
        <source>This PC has no store yet. What should it be?</source>
        <translation>这台电脑还没有门店数据。要把它设置为：</translation>
    </message>
    <message>
        <source>A new store: I start from scratch</source>
        <translation>新门店：从头开始</translation>
    </message>
    <message>
        <source>A counter of our chain: join the chain&apos;s server</source>
        <translation>连锁门店的收银台：连接连锁服务器</translation>
    </message>
    <message>
        <source>A demo store for training (made-up members, change nothing real)</source>
        <translation>培训用演示门店（虚构会员，不影响真实数据）</translation>
    </message>
</context>
<context>
    <name>ComplaintDialog</name>
    <message>
        <source>Log a complaint</source>
        <translation>登记投诉</translation>
    </message>
    <message>
        <source>Record</source>
        <translation>登记</translation>
    </message>
    <message>
        <source>For member {name}</source>
        <translation>会员：{name}</translation>
    </message>
    <message>
        <source>No member (walk-in customer)</source>
        <translation>非会员（散客）</translation>
    </message>
    <message>
        <source>Required: what went wrong, in a few words</source>
        <translation>必填：简述问题</translation>
    </message>
    <message>
        <source>Optional: product or supplier</source>
        <translation>选填：商品或供应商</translation>
    </message>
    <message>
        <source>No particular purchase</source>
        <translation>不关联购物</translation>
    </message>
    <message>
        <source>Optional: what the customer said</source>
        <translation>选填：顾客原话</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>渠道</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>严重程度</translation>
    </message>
    <message>
        <source>Product or supplier</source>
        <translation>商品或供应商</translation>
    </message>
    <message>
        <source>Purchase</source>
        <translation>购物</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Enter the subject of the complaint.</source>
        <translation>请填写投诉主题。</translation>
    </message>
    <message>
        <source>The lists are still loading; try again in a moment.</source>
        <translation>列表还在加载，请稍后再试。</translation>
    </message>
    <message>
        <source>Complaint #{number} recorded.</source>
        <translation>投诉 #{number} 已登记。</translation>
    </message>
</context>
<context>
    <name>ComplaintsPage</name>
    <message>
        <source>Complaints</source>
        <translation>投诉</translation>
    </message>
    <message>
        <source>Analysis</source>
        <translation>分析</translation>
    </message>
    <message>
        <source>Follow-up calls</source>
        <translation>回访</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Logged</source>
        <translation>登记时间</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>严重程度</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>渠道</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>负责人</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>处理期限</translation>
    </message>
    <message>
        <source>Branch</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>Not closed</source>
        <translation>未结案</translation>
    </message>
    <message>
        <source>All states</source>
        <translation>全部状态</translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation>仅超期</translation>
    </message>
    <message>
        <source>Search subject, product, member no. or phone</source>
        <translation>搜索主题、商品、会员编号或手机号</translation>
    </message>
    <message>
        <source>Log a complaint…</source>
        <translation>登记投诉…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始处理</translation>
    </message>
    <message>
        <source>Resolve…</source>
        <translation>解决…</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>结案</translation>
    </message>
    <message>
        <source>Reopen…</source>
        <translation>重新打开…</translation>
    </message>
    <message>
        <source>Assign…</source>
        <translation>指派…</translation>
    </message>
    <message>
        <source>All categories</source>
        <translation>全部类别</translation>
    </message>
    <message>
        <source>All branches</source>
        <translation>全部门店</translation>
    </message>
    <message>
        <source>Anyone</source>
        <translation>全部负责人</translation>
    </message>
    <message>
        <source>{count} complaints</source>
        <translation>{count} 条投诉</translation>
    </message>
    <message>
        <source>overdue</source>
        <translation>已超期</translation>
    </message>
    <message>
        <source>Member: {member}</source>
        <translation>会员：{member}</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Due: {due}</source>
        <translation>期限：{due}</translation>
    </message>
    <message>
        <source>Purchase: {receipt} on {when}, {amount}</source>
        <translation>购物：小票 {receipt}，{when}，{amount}</translation>
    </message>
    <message>
        <source>{points} goodwill points</source>
        <translation>补偿 {points} 积分</translation>
    </message>
    <message>
        <source>refund {amount}</source>
        <translation>退款 {amount}</translation>
    </message>
    <message>
        <source>Resolution</source>
        <translation>处理结果</translation>
    </message>
    <message>
        <source>History</source>
        <translation>处理记录</translation>
    </message>
    <message>
        <source>coupon {code}</source>
        <translation>优惠券 {code}</translation>
    </message>
    <message>
        <source>due {when}</source>
        <translation>期限 {when}</translation>
    </message>
    <message>
        <source>Start handling #{number}</source>
        <translation>开始处理 #{number}</translation>
    </message>
    <message>
        <source>Close #{number}</source>
        <translation>结案 #{number}</translation>
    </message>
    <message>
        <source>Reopen #{number}</source>
        <translation>重新打开 #{number}</translation>
    </message>
    <message>
        <source>Reopen</source>
        <translation>重新打开</translation>
    </message>
    <message>
        <source>Assign #{number}</source>
        <translation>指派 #{number}</translation>
    </message>
    <message>
        <source>Assign</source>
        <translation>指派</translation>
    </message>
</context>
<context>
    <name>CounterPage</name>
    <message>
        <source>Phone, last 4 digits, card number, name or pinyin — or scan a card</source>
        <translation>手机号、手机尾号4位、卡号、姓名或拼音——或直接扫会员卡</translation>
    </message>
    <message>
        <source>Matches appear here as you type.
↑ ↓ choose · Enter open · Esc clear</source>
        <translation>输入时匹配的会员显示在这里。
↑ ↓ 选择 · Enter 打开 · Esc 清除</translation>
    </message>
    <message>
        <source>Register</source>
        <translation>注册</translation>
    </message>
    <message>
        <source>Edit member</source>
        <translation>编辑会员</translation>
    </message>
    <message>
        <source>Purchase</source>
        <translation>消费</translation>
    </message>
    <message>
        <source>Redeem gift</source>
        <translation>兑换礼品</translation>
    </message>
    <message>
        <source>Return</source>
        <translation>退货</translation>
    </message>
    <message>
        <source>Adjust points</source>
        <translation>调整积分</translation>
    </message>
    <message>
        <source>Print member card</source>
        <translation>打印会员卡</translation>
    </message>
    <message>
        <source>Print slip</source>
        <translation>打印凭条</translation>
    </message>
    <message>
        <source>Complaint</source>
        <translation>投诉</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Last visit</source>
        <translation>最近到店</translation>
    </message>
    <message>
        <source>No member matches &quot;{query}&quot;.</source>
        <translation>没有与“{query}”匹配的会员。</translation>
    </message>
    <message>
        <source>F2 Register with what was typed</source>
        <translation>F2 用输入内容注册新会员</translation>
    </message>
    <message>
        <source>Card {code} not found.</source>
        <translation>未找到卡号 {code} 的会员。</translation>
    </message>
    <message>
        <source>{action} — {name}</source>
        <translation>{action} — {name}</translation>
    </message>
</context>
<context>
    <name>Coupons</name>
    <message>
        <source>Valid</source>
        <translation>可用</translation>
    </message>
    <message>
        <source>Used</source>
        <translation>已使用</translation>
    </message>
    <message>
        <source>Voided</source>
        <translation>已作废</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>已过期</translation>
    </message>
    <message>
        <source>Optional; scan or type the coupon code</source>
        <translation>可选；扫描或输入券码</translation>
    </message>
    <message>
        <source>Hand over the gift: {gift}</source>
        <translation>请发放赠品：{gift}</translation>
    </message>
    <message>
        <source>Points × {times}</source>
        <translation>积分 × {times}</translation>
    </message>
    <message>
        <source>{amount} off</source>
        <translation>减{amount}</translation>
    </message>
    <message>
        <source>Not usable now</source>
        <translation>暂不可用</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>券码</translation>
    </message>
    <message>
        <source>Campaign</source>
        <translation>活动</translation>
    </message>
    <message>
        <source>Offer</source>
        <translation>优惠</translation>
    </message>
    <message>
        <source>Valid until</source>
        <translation>有效期至</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Void…</source>
        <translation>作废…</translation>
    </message>
    <message>
        <source>Void a coupon</source>
        <translation>作废优惠券</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>作废</translation>
    </message>
    <message>
        <source>Coupon</source>
        <translation>优惠券</translation>
    </message>
    <message>
        <source>Why (lost, given by mistake…)</source>
        <translation>原因（遗失、发错…）</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Voiding a coupon needs a reason.</source>
        <translation>作废优惠券需要填写原因。</translation>
    </message>
    <message>
        <source>Coupon {code} voided.</source>
        <translation>优惠券 {code} 已作废。</translation>
    </message>
    <message>
        <source>Coupons {campaign}</source>
        <translation>优惠券 {campaign}</translation>
    </message>
    <message>
        <source>Printing coupons</source>
        <translation>正在打印优惠券</translation>
    </message>
    <message>
        <source>{percent}% off ({zhe}折)</source>
        <translation>{zhe}折（减{percent}%）</translation>
    </message>
    <message>
        <source> (at most {amount})</source>
        <translation>（最高减{amount}）</translation>
    </message>
    <message>
        <source>Free gift: {gift}</source>
        <translation>赠{gift}</translation>
    </message>
    <message>
        <source>{times}× points</source>
        <translation>{times}倍积分</translation>
    </message>
    <message>
        <source>Spend {amount}: </source>
        <translation>满{amount}</translation>
    </message>
    <message>
        <source>Amount off</source>
        <translation>满减券</translation>
    </message>
    <message>
        <source>Percent off</source>
        <translation>折扣券</translation>
    </message>
    <message>
        <source>Gift</source>
        <translation>赠品券</translation>
    </message>
    <message>
        <source>Points multiplier</source>
        <translation>积分倍数券</translation>
    </message>
    <message>
        <source>All members</source>
        <translation>全体会员</translation>
    </message>
    <message>
        <source>One tier</source>
        <translation>指定等级</translation>
    </message>
    <message>
        <source>Chosen members</source>
        <translation>指定会员</translation>
    </message>
    <message>
        <source>Bearer (anyone)</source>
        <translation>不记名（任何人）</translation>
    </message>
    <message>
        <source>A saved segment</source>
        <translation>已保存的分群</translation>
    </message>
    <message>
        <source>Draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>进行中</translation>
    </message>
    <message>
        <source>Ended</source>
        <translation>已结束</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <source>MemberDesk: unexpected problem</source>
        <translation>会员台：发生意外问题</translation>
    </message>
    <message>
        <source>(no log file)</source>
        <translation>（无日志文件）</translation>
    </message>
    <message>
        <source>MemberDesk ran into an unexpected problem. The counter keeps working and nothing half-written was kept. Please tell your support contact and give them the log file:
{path}</source>
        <translation>会员台遇到了一个意外问题。收银台可以继续使用，未完成的操作没有保存任何内容。请联系技术支持，并提供日志文件：
{path}</translation>
    </message>
    <message>
        <source>Copy details</source>
        <translation>复制详细信息</translation>
    </message>
</context>
<context>
    <name>Dashboard</name>
    <message>
        <source>Churn warning: call to win back</source>
        <translation>流失预警：回访挽回</translation>
    </message>
    <message>
        <source>Birthday greeted</source>
        <translation>已生日问候</translation>
    </message>
    <message>
        <source>Member no.</source>
        <translation>会员编号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <source>Points expiring</source>
        <translation>即将过期积分</translation>
    </message>
    <message>
        <source>First expiry</source>
        <translation>最早过期日</translation>
    </message>
    <message>
        <source>Monday</source>
        <translation>星期一</translation>
    </message>
    <message>
        <source>Tuesday</source>
        <translation>星期二</translation>
    </message>
    <message>
        <source>Wednesday</source>
        <translation>星期三</translation>
    </message>
    <message>
        <source>Thursday</source>
        <translation>星期四</translation>
    </message>
    <message>
        <source>Friday</source>
        <translation>星期五</translation>
    </message>
    <message>
        <source>Saturday</source>
        <translation>星期六</translation>
    </message>
    <message>
        <source>Sunday</source>
        <translation>星期日</translation>
    </message>
    <message>
        <source>{weekday}; compared with {last_week} and the average of the four same weekdays before; printed {at}</source>
        <translation>{weekday}；与 {last_week} 及此前四个同一星期几的平均值比较；打印于 {at}</translation>
    </message>
    <message>
        <source>Sales</source>
        <translation>销售额</translation>
    </message>
    <message>
        <source>Figures</source>
        <translation>经营指标</translation>
    </message>
    <message>
        <source>Sales of the last four weeks</source>
        <translation>近四周销售额</translation>
    </message>
    <message>
        <source>Sales by category</source>
        <translation>品类销售</translation>
    </message>
    <message>
        <source>Work lists</source>
        <translation>待办清单</translation>
    </message>
    <message>
        <source>No sales in these four weeks.</source>
        <translation>这四周没有销售。</translation>
    </message>
    <message>
        <source>Day summary {date}</source>
        <translation>营业日报 {date}</translation>
    </message>
    <message>
        <source>Returns</source>
        <translation>退货</translation>
    </message>
    <message>
        <source>Net sales</source>
        <translation>净销售额</translation>
    </message>
    <message>
        <source>Member sales, net of returns</source>
        <translation>会员净销售额（扣除退货）</translation>
    </message>
    <message>
        <source>Figure</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>当日</translation>
    </message>
    <message>
        <source>Last week</source>
        <translation>上周同日</translation>
    </message>
    <message>
        <source>Change</source>
        <translation>变化</translation>
    </message>
    <message>
        <source>4-week average</source>
        <translation>4 周均值</translation>
    </message>
    <message>
        <source>No sales with categories on this day.</source>
        <translation>当日没有分品类的销售。</translation>
    </message>
    <message>
        <source>List</source>
        <translation>清单</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>会员数</translation>
    </message>
    <message>
        <source>Staff {first} to {last}</source>
        <translation>员工业绩 {first} 至 {last}</translation>
    </message>
    <message>
        <source>Staff</source>
        <translation>员工</translation>
    </message>
    <message>
        <source>Registered</source>
        <translation>登记会员</translation>
    </message>
    <message>
        <source>Purchases</source>
        <translation>消费笔数</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>解决投诉</translation>
    </message>
    <message>
        <source>Calls</source>
        <translation>回访</translation>
    </message>
    <message>
        <source>Satisfaction</source>
        <translation>回访满意度</translation>
    </message>
    <message>
        <source>Member sales</source>
        <translation>会员销售</translation>
    </message>
    <message>
        <source>Other sales</source>
        <translation>非会员销售</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>品类</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>数量</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>金额</translation>
    </message>
    <message>
        <source>Sales champion: {name}</source>
        <translation>销售冠军：{name}</translation>
    </message>
    <message>
        <source>Service star: {name}</source>
        <translation>服务明星：{name}</translation>
    </message>
    <message>
        <source>Sales without category lines</source>
        <translation>未分品类的销售</translation>
    </message>
    <message>
        <source>Member sales share</source>
        <translation>会员销售占比</translation>
    </message>
    <message>
        <source>Member purchases</source>
        <translation>会员消费笔数</translation>
    </message>
    <message>
        <source>New members</source>
        <translation>新增会员</translation>
    </message>
    <message>
        <source>Points issued</source>
        <translation>发放积分</translation>
    </message>
    <message>
        <source>Points redeemed</source>
        <translation>使用积分</translation>
    </message>
    <message>
        <source>Points expired</source>
        <translation>过期积分</translation>
    </message>
    <message>
        <source>Coupons redeemed</source>
        <translation>核销优惠券</translation>
    </message>
    <message>
        <source>Complaints opened</source>
        <translation>新增投诉</translation>
    </message>
    <message>
        <source>Complaints resolved</source>
        <translation>解决投诉</translation>
    </message>
    <message>
        <source>Survey CSAT</source>
        <translation>问卷满意度 CSAT</translation>
    </message>
    <message>
        <source>Birthdays today</source>
        <translation>今天生日</translation>
    </message>
    <message>
        <source>Birthdays this week</source>
        <translation>本周生日</translation>
    </message>
    <message>
        <source>VIPs and major customers at risk</source>
        <translation>有流失风险的 VIP 和大客户</translation>
    </message>
    <message>
        <source>Overdue complaints</source>
        <translation>超期投诉</translation>
    </message>
    <message>
        <source>Follow-ups due today</source>
        <translation>今天到期的回访</translation>
    </message>
    <message>
        <source>Members with points expiring within 30 days</source>
        <translation>30 天内有积分过期的会员</translation>
    </message>
    <message>
        <source>vs last week {change}</source>
        <translation>比上周同日 {change}</translation>
    </message>
    <message>
        <source>vs 4-week average {change}</source>
        <translation>比 4 周均值 {change}</translation>
    </message>
</context>
<context>
    <name>DashboardPage</name>
    <message>
        <source>Close of day</source>
        <translation>今日经营</translation>
    </message>
    <message>
        <source>Print day summary…</source>
        <translation>打印日报…</translation>
    </message>
    <message>
        <source>Day</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Staff</source>
        <translation>员工</translation>
    </message>
    <message>
        <source>Registered</source>
        <translation>登记会员</translation>
    </message>
    <message>
        <source>Purchases</source>
        <translation>消费笔数</translation>
    </message>
    <message>
        <source>Sales</source>
        <translation>销售额</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>解决投诉</translation>
    </message>
    <message>
        <source>Calls</source>
        <translation>回访</translation>
    </message>
    <message>
        <source>Satisfaction</source>
        <translation>回访满意度</translation>
    </message>
    <message>
        <source>Work lists</source>
        <translation>待办清单</translation>
    </message>
    <message>
        <source>Nothing recorded in the four weeks up to {date} yet: the figures fill in as purchases, members and complaints are recorded.</source>
        <translation>截至 {date} 的四周内尚无记录：登记消费、会员和投诉后，这里的数字会逐步出现。</translation>
    </message>
    <message>
        <source>{date}: net sales {net} (returns {returns}); compared with the same weekday of the weeks before.</source>
        <translation>{date}：净销售额 {net}（退货 {returns}）；与前几周的同一星期几比较。</translation>
    </message>
    <message>
        <source>Act on them…</source>
        <translation>对这些会员…</translation>
    </message>
    <message>
        <source>A coupon campaign for exactly these members, follow-up tasks, or a contact list.</source>
        <translation>为正是这些会员发优惠券活动、建跟进任务，或导出联系名单。</translation>
    </message>
    <message>
        <source>Mark greeted</source>
        <translation>标记已问候</translation>
    </message>
    <message>
        <source>Print birthday coupons…</source>
        <translation>打印生日券…</translation>
    </message>
    <message>
        <source>Create follow-ups</source>
        <translation>创建回访任务</translation>
    </message>
    <message>
        <source>Open complaints</source>
        <translation>打开投诉</translation>
    </message>
    <message>
        <source>Open follow-ups</source>
        <translation>打开回访</translation>
    </message>
    <message>
        <source>Export list…</source>
        <translation>导出名单…</translation>
    </message>
    <message>
        <source>Staff, {first} to {last}</source>
        <translation>员工业绩：{first} 至 {last}</translation>
    </message>
    <message>
        <source>Sales champion: {name}</source>
        <translation>销售冠军：{name}</translation>
    </message>
    <message>
        <source>Service star: {name}</source>
        <translation>服务明星：{name}</translation>
    </message>
    <message>
        <source>No staff figures in this period yet.</source>
        <translation>本期间暂无员工业绩。</translation>
    </message>
    <message>
        <source>{count} follow-up calls created, due tomorrow.</source>
        <translation>已创建 {count} 个回访任务，明天到期。</translation>
    </message>
    <message>
        <source>{count} birthdays marked as greeted.</source>
        <translation>已将 {count} 位寿星标记为已问候。</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>{count} rows saved to {file}</source>
        <translation>已保存 {count} 行到 {file}</translation>
    </message>
    <message>
        <source>Exporting {file}</source>
        <translation>正在导出 {file}</translation>
    </message>
    <message>
        <source>Day summary {date}</source>
        <translation>营业日报 {date}</translation>
    </message>
</context>
<context>
    <name>Demo</name>
    <message>
        <source>Demo members</source>
        <translation>演示会员</translation>
    </message>
    <message>
        <source>Demo store ready in {seconds:.1f} s: {members:,} members ({marketing:,} agreed to marketing, {referred:,} referred by a friend) at {branches} branches; {sales:,} purchases worth {spend} and {returns:,} returns from {first} to {last}; {earned:,} points earned, {used:,} paid at the till, {gifts:,} gifts, {expired:,} expired; tiers: {tiers}; {complaints} complaints, {tasks} follow-up tasks. Sign in as owner/0000 or {staff}.</source>
        <translation>演示门店已在 {seconds:.1f} 秒内生成：{branches} 家门店共 {members:,} 名会员（{marketing:,} 人同意接收营销信息，{referred:,} 人由朋友推荐）；{first} 至 {last} 共 {sales:,} 笔消费，金额 {spend}，退货 {returns:,} 笔；获得积分 {earned:,}，收银抵扣 {used:,}，兑换礼品 {gifts:,}，过期 {expired:,}；等级：{tiers}；投诉 {complaints} 条，跟进任务 {tasks} 条。请用 owner/0000 或 {staff} 登录。</translation>
    </message>
    <message>
        <source>Rebuilding indexes</source>
        <translation>正在重建索引</translation>
    </message>
</context>
<context>
    <name>DemoPage</name>
    <message>
        <source>A demo store for training</source>
        <translation>培训用演示门店</translation>
    </message>
    <message>
        <source>3,000 made-up members with two years of purchases, to learn the counter on.</source>
        <translation>3,000 名虚构会员及两年的消费记录，用来熟悉收银台操作。</translation>
    </message>
    <message>
        <source>Sign in as owner (PIN 0000), manager (6666) or cashier1 (1234). Use it only for training: for the real store, start MemberDesk with another data folder (--data-dir).</source>
        <translation>可用 owner（PIN 0000）、manager（6666）或 cashier1（1234）登录。仅供培训使用：真实门店请用另一个数据文件夹启动会员台（--data-dir）。</translation>
    </message>
</context>
<context>
    <name>EditPage</name>
    <message>
        <source>Undo changes</source>
        <translation>撤销修改</translation>
    </message>
    <message>
        <source>Nothing to save.</source>
        <translation>没有需要保存的修改。</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <source>No such staff account: {name}</source>
        <translation>没有这个员工账号：{name}</translation>
    </message>
    <message>
        <source>Wrong PIN.</source>
        <translation>PIN 码错误。</translation>
    </message>
    <message>
        <source>Demo members must be between 1 and {most}.</source>
        <translation>演示会员数必须在 1 到 {most} 之间。</translation>
    </message>
    <message>
        <source>Demo days must be between 1 and 3650.</source>
        <translation>演示天数必须在 1 到 3650 之间。</translation>
    </message>
    <message>
        <source>The store already has {count} members; a demo only fills an empty store (or use --force).</source>
        <translation>门店已有 {count} 名会员；演示数据只能填入空门店（或使用 --force）。</translation>
    </message>
    <message>
        <source>Demo stopped after {done} of {total} members; those are complete.</source>
        <translation>演示数据在 {total} 名会员中的第 {done} 名后停止；已生成的数据是完整的。</translation>
    </message>
    <message>
        <source>The store changed while the demo was being made; run it when no counter is open.</source>
        <translation>生成演示数据时门店数据发生了变化；请在没有收银台打开时运行。</translation>
    </message>
    <message>
        <source>Export to a .csv or .xlsx file.</source>
        <translation>请导出为 .csv 或 .xlsx 文件。</translation>
    </message>
    <message>
        <source>Import cancelled; rows already committed stay imported.</source>
        <translation>导入已取消；已提交的行保持导入状态。</translation>
    </message>
    <message>
        <source>Enter the member&apos;s name.</source>
        <translation>请输入会员姓名。</translation>
    </message>
    <message>
        <source>Gender must be 男/女 or male/female: {value}</source>
        <translation>性别必须是 男/女 或 male/female：{value}</translation>
    </message>
    <message>
        <source>Unknown tier: {value}</source>
        <translation>未知等级：{value}</translation>
    </message>
    <message>
        <source>Card {card} already belongs to a member.</source>
        <translation>卡号 {card} 已属于一位会员。</translation>
    </message>
    <message>
        <source>Phone {phone} already belongs to a member.</source>
        <translation>手机号 {phone} 已属于一位会员。</translation>
    </message>
    <message>
        <source>The server cannot be reached right now — retrying. Please try again shortly.</source>
        <translation>服务器暂时连不上 — 正在重试。请稍后再试。</translation>
    </message>
    <message>
        <source>A sales file needs member_no, card_no or phone, and time and amount.</source>
        <translation>消费记录文件需要 member_no、card_no 或 phone 之一，以及时间和金额。</translation>
    </message>
    <message>
        <source>The row has no time.</source>
        <translation>该行没有时间。</translation>
    </message>
    <message>
        <source>The amount must be more than ¥0 and at most ¥1,000,000.</source>
        <translation>金额必须大于 ¥0 且不超过 ¥1,000,000。</translation>
    </message>
    <message>
        <source>Unknown branch: {value}</source>
        <translation>未知门店：{value}</translation>
    </message>
    <message>
        <source>The row names no member (member_no, card_no or phone).</source>
        <translation>该行没有指明会员（member_no、card_no 或 phone）。</translation>
    </message>
    <message>
        <source>The file is neither UTF-8 nor GB18030 text.</source>
        <translation>文件既不是 UTF-8 也不是 GB18030 编码的文本。</translation>
    </message>
    <message>
        <source>No known column headers in the first row of the file.</source>
        <translation>文件第一行没有可识别的列标题。</translation>
    </message>
    <message>
        <source>The file is empty.</source>
        <translation>文件是空的。</translation>
    </message>
    <message>
        <source>The spreadsheet cannot be read: {reason}</source>
        <translation>无法读取表格：{reason}</translation>
    </message>
    <message>
        <source>A gift needs a name of at most 100 characters.</source>
        <translation>礼品需要名称，最多 100 个字符。</translation>
    </message>
    <message>
        <source>A gift&apos;s points price must be between 1 and 10,000,000.</source>
        <translation>礼品所需积分必须在 1 到 10,000,000 之间。</translation>
    </message>
    <message>
        <source>Stock must be between 0 and 1,000,000.</source>
        <translation>库存必须在 0 到 1,000,000 之间。</translation>
    </message>
    <message>
        <source>Tier not found.</source>
        <translation>未找到该等级。</translation>
    </message>
    <message>
        <source>The lowest tier must need no spend and no points.</source>
        <translation>最低等级不能设消费或积分门槛。</translation>
    </message>
    <message>
        <source>A tier needs a Chinese and an English name.</source>
        <translation>等级需要中文名和英文名。</translation>
    </message>
    <message>
        <source>A tier&apos;s points multiplier must be 100 % to 1000 %.</source>
        <translation>等级积分倍率必须在 100% 到 1000% 之间。</translation>
    </message>
    <message>
        <source>Thresholds cannot be negative.</source>
        <translation>门槛不能为负数。</translation>
    </message>
    <message>
        <source>Each tier must need more than the tier below it.</source>
        <translation>每个等级的门槛都必须高于下一级。</translation>
    </message>
    <message>
        <source>Member not found.</source>
        <translation>未找到该会员。</translation>
    </message>
    <message>
        <source>Not enough points: {balance} available, {needed} needed.</source>
        <translation>积分不足：可用 {balance}，需要 {needed}。</translation>
    </message>
    <message>
        <source>That PIN is not a manager&apos;s PIN.</source>
        <translation>该 PIN 码不是店长的 PIN 码。</translation>
    </message>
    <message>
        <source>Points to use cannot be negative.</source>
        <translation>抵扣积分不能为负数。</translation>
    </message>
    <message>
        <source>A receipt number has at most 40 characters.</source>
        <translation>小票号最多 40 个字符。</translation>
    </message>
    <message>
        <source>The quantity must be at least 1.</source>
        <translation>数量至少为 1。</translation>
    </message>
    <message>
        <source>Enter a number of points other than zero.</source>
        <translation>请输入不为零的积分数。</translation>
    </message>
    <message>
        <source>An adjustment needs a reason.</source>
        <translation>调整积分需要填写原因。</translation>
    </message>
    <message>
        <source>A manager must approve this with their PIN.</source>
        <translation>此操作需要店长输入 PIN 码批准。</translation>
    </message>
    <message>
        <source>The lines do not add up to the purchase amount.</source>
        <translation>各明细行金额之和与消费金额不符。</translation>
    </message>
    <message>
        <source>Points are used in steps of {step}.</source>
        <translation>积分须按 {step} 的整数倍使用。</translation>
    </message>
    <message>
        <source>At most {most} points can be used on this purchase.</source>
        <translation>本次消费最多可使用 {most} 积分。</translation>
    </message>
    <message>
        <source>Receipt {receipt} was already recorded for another purchase.</source>
        <translation>小票 {receipt} 已记录在另一笔消费上。</translation>
    </message>
    <message>
        <source>Sale not found.</source>
        <translation>未找到该笔消费。</translation>
    </message>
    <message>
        <source>Gift not found.</source>
        <translation>未找到该礼品。</translation>
    </message>
    <message>
        <source>each already has an open follow-up for this reason.</source>
        <translation>每位都已有同类的未完成跟进。</translation>
    </message>
    <message>
        <source>Cancelled: nothing was changed.</source>
        <translation>已取消：没有做任何改动。</translation>
    </message>
    <message>
        <source>the set has no active members.</source>
        <translation>这批会员中没有有效会员。</translation>
    </message>
    <message>
        <source>none of its members agreed to marketing.</source>
        <translation>其中没有会员同意接收营销信息。</translation>
    </message>
    <message>
        <source>Nobody in this set to follow up: {reason}</source>
        <translation>这批会员中没有需要跟进的：{reason}</translation>
    </message>
    <message>
        <source>The period ends before it starts.</source>
        <translation>结束日期早于开始日期。</translation>
    </message>
    <message>
        <source>Not a date (YYYY-MM-DD): {text}</source>
        <translation>不是日期（YYYY-MM-DD）：{text}</translation>
    </message>
    <message>
        <source>A complaint needs a subject.</source>
        <translation>投诉需要填写主题。</translation>
    </message>
    <message>
        <source>The subject is longer than 200 characters.</source>
        <translation>主题超过 200 个字。</translation>
    </message>
    <message>
        <source>The product or supplier is longer than 100 characters.</source>
        <translation>商品或供应商超过 100 个字。</translation>
    </message>
    <message>
        <source>The due time is in the past.</source>
        <translation>处理期限已经过去。</translation>
    </message>
    <message>
        <source>Complaint {number} not found.</source>
        <translation>找不到投诉 {number}。</translation>
    </message>
    <message>
        <source>Say why the complaint is reopened.</source>
        <translation>请说明重新打开的原因。</translation>
    </message>
    <message>
        <source>Say what was done to resolve the complaint.</source>
        <translation>请说明如何解决了投诉。</translation>
    </message>
    <message>
        <source>Goodwill points must be between 0 and {most}.</source>
        <translation>补偿积分须在 0 到 {most} 之间。</translation>
    </message>
    <message>
        <source>The refund is out of range.</source>
        <translation>退款金额超出范围。</translation>
    </message>
    <message>
        <source>A complaint that is {current} cannot become {wanted}.</source>
        <translation>“{current}”的投诉不能改为“{wanted}”。</translation>
    </message>
    <message>
        <source>Unknown channel: {channel}</source>
        <translation>未知渠道：{channel}</translation>
    </message>
    <message>
        <source>Unknown category: {category}</source>
        <translation>未知类别：{category}</translation>
    </message>
    <message>
        <source>Sale {number} not found.</source>
        <translation>找不到销售 {number}。</translation>
    </message>
    <message>
        <source>That sale is not this member&apos;s.</source>
        <translation>这笔购物不属于该会员。</translation>
    </message>
    <message>
        <source>Goodwill points need a member; this complaint has none.</source>
        <translation>补偿积分需要会员，此投诉没有关联会员。</translation>
    </message>
    <message>
        <source>A coupon needs a member; this complaint has none.</source>
        <translation>优惠券需要会员；这条投诉没有会员。</translation>
    </message>
    <message>
        <source>Choose who makes the follow-up.</source>
        <translation>请选择由谁跟进。</translation>
    </message>
    <message>
        <source>A follow-up title has at most 200 characters.</source>
        <translation>跟进事项最多 200 个字。</translation>
    </message>
    <message>
        <source>A note has at most 1,000 characters.</source>
        <translation>备注最多 1,000 个字。</translation>
    </message>
    <message>
        <source>Write down how the call went.</source>
        <translation>请填写回访情况。</translation>
    </message>
    <message>
        <source>Satisfaction must be between 1 and 5.</source>
        <translation>满意度须在 1 到 5 之间。</translation>
    </message>
    <message>
        <source>Follow-up task {number} not found.</source>
        <translation>找不到回访任务 {number}。</translation>
    </message>
    <message>
        <source>This follow-up task is already finished.</source>
        <translation>此回访任务已完成。</translation>
    </message>
    <message>
        <source>A survey needs at least one question.</source>
        <translation>问卷至少需要一个问题。</translation>
    </message>
    <message>
        <source>A survey has at most {most} questions.</source>
        <translation>问卷最多 {most} 个问题。</translation>
    </message>
    <message>
        <source>The form has no answers; enter at least one.</source>
        <translation>问卷没有任何回答，请至少录入一项。</translation>
    </message>
    <message>
        <source>Question {number}: enter one letter from {first} to {last}.</source>
        <translation>第 {number} 题：请输入 {first} 到 {last} 中的一个字母。</translation>
    </message>
    <message>
        <source>Question {number}: enter letters from {first} to {last}.</source>
        <translation>第 {number} 题：请输入 {first} 到 {last} 之间的字母。</translation>
    </message>
    <message>
        <source>Question {number}: its key is not valid or used twice.</source>
        <translation>第 {number} 题：键名无效或重复。</translation>
    </message>
    <message>
        <source>Question {number} has no text.</source>
        <translation>第 {number} 题没有题目文字。</translation>
    </message>
    <message>
        <source>Question {number}: at most {most} characters.</source>
        <translation>第 {number} 题：最多 {most} 个字。</translation>
    </message>
    <message>
        <source>Question {number}: enter a number from {low} to {high}.</source>
        <translation>第 {number} 题：请输入 {low} 到 {high} 的数字。</translation>
    </message>
    <message>
        <source>Question {number}: a choice question needs 2 to {most} choices.</source>
        <translation>第 {number} 题：选择题需要 2 到 {most} 个选项。</translation>
    </message>
    <message>
        <source>The list of {what} cannot be empty.</source>
        <translation>{what}列表不能为空。</translation>
    </message>
    <message>
        <source>Follow-up days must be between 0 and 60.</source>
        <translation>回访间隔须在 0 到 60 天之间。</translation>
    </message>
    <message>
        <source>Survey reward must be between 0 and {most} points.</source>
        <translation>问卷奖励须在 0 到 {most} 积分之间。</translation>
    </message>
    <message>
        <source>An entry is longer than 20 characters: {text}</source>
        <translation>条目超过 20 个字：{text}</translation>
    </message>
    <message>
        <source>Time to resolve must be between 1 and {most} hours.</source>
        <translation>处理时限须在 1 到 {most} 小时之间。</translation>
    </message>
    <message>
        <source>{code} is not a survey form number (SV and 9 digits).</source>
        <translation>{code} 不是问卷编号（SV 加 9 位数字）。</translation>
    </message>
    <message>
        <source>No survey template with code {code}.</source>
        <translation>没有代码为 {code} 的问卷。</translation>
    </message>
    <message>
        <source>A template code has 1 to 20 letters, digits, - or _.</source>
        <translation>问卷代码为 1 到 20 个字母、数字、- 或 _。</translation>
    </message>
    <message>
        <source>A survey needs a title (at most 200 characters).</source>
        <translation>问卷需要标题（最多 200 个字）。</translation>
    </message>
    <message>
        <source>Print between 1 and {most} forms.</source>
        <translation>打印份数须在 1 到 {most} 之间。</translation>
    </message>
    <message>
        <source>Survey form {form} was never printed here.</source>
        <translation>本店没有打印过问卷 {form}。</translation>
    </message>
    <message>
        <source>Form {form} belongs to another survey: {title}.</source>
        <translation>问卷 {form} 属于另一份问卷：{title}。</translation>
    </message>
    <message>
        <source>Form {form} was voided.</source>
        <translation>问卷 {form} 已作废。</translation>
    </message>
    <message>
        <source>Form {form} was already entered on {when} by {who}.</source>
        <translation>问卷 {form} 已于 {when} 由 {who} 录入。</translation>
    </message>
    <message>
        <source>Survey {code} is retired.</source>
        <translation>问卷 {code} 已停用。</translation>
    </message>
    <message>
        <source>No member with number {number}.</source>
        <translation>没有编号为 {number} 的会员。</translation>
    </message>
    <message>
        <source>A background job stopped unexpectedly (exit code {code}). What it had finished is kept; its unfinished step was undone. It runs again at the next maintenance or when started again.</source>
        <translation>后台任务意外停止（退出码 {code}）。已完成的部分保留，未完成的一步已撤销。下次维护或再次启动时会重新运行。</translation>
    </message>
    <message>
        <source>A campaign code is 1 to 20 letters, digits, - or _.</source>
        <translation>活动代码为 1 到 20 个字母、数字、- 或 _。</translation>
    </message>
    <message>
        <source>A campaign needs a name of at most 100 characters.</source>
        <translation>活动需要名称，最多 100 个字。</translation>
    </message>
    <message>
        <source>The campaign must end after it starts.</source>
        <translation>活动的结束日期必须晚于开始日期。</translation>
    </message>
    <message>
        <source>A campaign runs for at most three years.</source>
        <translation>一个活动最长三年。</translation>
    </message>
    <message>
        <source>The percent off must be between 1 and 100.</source>
        <translation>折扣百分比必须在 1 到 100 之间。</translation>
    </message>
    <message>
        <source>Name the gift.</source>
        <translation>请填写赠品名称。</translation>
    </message>
    <message>
        <source>The points multiplier must be between 101 % and 1000 %.</source>
        <translation>积分倍数必须在 101% 到 1000% 之间。</translation>
    </message>
    <message>
        <source>The quantity must be between 0 (no limit) and 1,000,000.</source>
        <translation>发行数量必须在 0（不限）到 1,000,000 之间。</translation>
    </message>
    <message>
        <source>Each member may hold between 1 and 100 coupons of a campaign.</source>
        <translation>每位会员限领 1 到 100 张。</translation>
    </message>
    <message>
        <source>Choose the tier the campaign is for.</source>
        <translation>请选择活动面向的等级。</translation>
    </message>
    <message>
        <source>Choose the saved segment the campaign is for.</source>
        <translation>请选择活动面向的已保存分群。</translation>
    </message>
    <message>
        <source>The terms have at most 500 characters.</source>
        <translation>使用条款最多 500 个字。</translation>
    </message>
    <message>
        <source>An amount must be between ¥0 and ¥100,000.</source>
        <translation>金额必须在 ¥0 到 ¥100,000 之间。</translation>
    </message>
    <message>
        <source>Enter the amount off.</source>
        <translation>请填写减免金额。</translation>
    </message>
    <message>
        <source>The amount off cannot be more than the minimum spend.</source>
        <translation>减免金额不能大于最低消费。</translation>
    </message>
    <message>
        <source>This is not a coupon code: check the characters (the last one is a check character).</source>
        <translation>这不是有效的券码：请核对字符（最后一位是校验位）。</translation>
    </message>
    <message>
        <source>No coupon with this code in this store.</source>
        <translation>本店没有这张优惠券。</translation>
    </message>
    <message>
        <source>The campaign of this coupon is not running (status: {status}).</source>
        <translation>这张券所属的活动未在进行（状态：{status}）。</translation>
    </message>
    <message>
        <source>This coupon is valid from {date}.</source>
        <translation>这张券从 {date} 起才能使用。</translation>
    </message>
    <message>
        <source>This coupon expired on {date}.</source>
        <translation>这张券已于 {date} 过期。</translation>
    </message>
    <message>
        <source>This coupon was already used on {date}.</source>
        <translation>这张券已于 {date} 使用过。</translation>
    </message>
    <message>
        <source>This coupon was just used at another counter.</source>
        <translation>这张券刚刚在另一个收银台用掉了。</translation>
    </message>
    <message>
        <source>This coupon was voided by a manager.</source>
        <translation>这张券已被店长作废。</translation>
    </message>
    <message>
        <source>This coupon is not valid at this branch.</source>
        <translation>这张券不能在本门店使用。</translation>
    </message>
    <message>
        <source>This coupon belongs to another member.</source>
        <translation>这张券属于另一位会员。</translation>
    </message>
    <message>
        <source>This coupon needs a spend of {minimum} on goods it covers; this purchase has {counted}.</source>
        <translation>这张券需要参与商品消费满 {minimum}；本单只有 {counted}。</translation>
    </message>
    <message>
        <source>Cancelled: no campaign was made and no coupon issued.</source>
        <translation>已取消：没有创建活动，也没有发券。</translation>
    </message>
    <message>
        <source>Campaign not found.</source>
        <translation>找不到该活动。</translation>
    </message>
    <message>
        <source>Choose the members to issue coupons to.</source>
        <translation>请选择要发券的会员。</translation>
    </message>
    <message>
        <source>No active member with the number {numbers}.</source>
        <translation>没有编号为 {numbers} 的有效会员。</translation>
    </message>
    <message>
        <source>No campaign with the code or name {name}.</source>
        <translation>没有代码或名称为 {name} 的活动。</translation>
    </message>
    <message>
        <source>Campaign {name} is not running: choose another.</source>
        <translation>活动“{name}”未在进行：请另选一个。</translation>
    </message>
    <message>
        <source>Bearer coupons belong to nobody: choose a campaign for members.</source>
        <translation>不记名券不属于任何人：请选一个面向会员的活动。</translation>
    </message>
    <message>
        <source>All {total} coupons of {name} are issued.</source>
        <translation>“{name}”的 {total} 张券已全部发放。</translation>
    </message>
    <message>
        <source>The member already holds {held} coupons of {name}, its limit.</source>
        <translation>该会员已持有 {held} 张“{name}”，已达每人限额。</translation>
    </message>
    <message>
        <source>Voiding a coupon needs a reason.</source>
        <translation>作废优惠券需要填写原因。</translation>
    </message>
    <message>
        <source>A campaign with the code {code} exists already.</source>
        <translation>活动代码 {code} 已存在。</translation>
    </message>
    <message>
        <source>Only a draft campaign can be changed.</source>
        <translation>只有草稿状态的活动可以修改。</translation>
    </message>
    <message>
        <source>A campaign&apos;s code cannot be changed.</source>
        <translation>活动代码不能修改。</translation>
    </message>
    <message>
        <source>An ended campaign cannot start again.</source>
        <translation>已结束的活动不能重新开始。</translation>
    </message>
    <message>
        <source>An ended campaign issues no coupons.</source>
        <translation>已结束的活动不能再发券。</translation>
    </message>
    <message>
        <source>This work list has no members to act on.</source>
        <translation>这个工作清单没有可操作的会员。</translation>
    </message>
    <message>
        <source>Daily maintenance was stopped. The members already done keep their changes; the others are done at the next run.</source>
        <translation>每日维护已停止。已处理的会员保留变更，其余会员在下次运行时处理。</translation>
    </message>
    <message>
        <source>Printing stopped: no PDF was made.</source>
        <translation>已停止打印：没有生成 PDF。</translation>
    </message>
    <message>
        <source>No such backup file: {path}</source>
        <translation>备份文件不存在：{path}</translation>
    </message>
    <message>
        <source>{path} is not a MemberDesk backup: {detail}</source>
        <translation>{path} 不是会员台的备份：{detail}</translation>
    </message>
    <message>
        <source>The backup in {path} did not read back as this store.</source>
        <translation>{path} 中的备份读回时与本店不符。</translation>
    </message>
    <message>
        <source>pg_dump is not installed here: back the server up on the server (see README).</source>
        <translation>本机未安装 pg_dump：请在服务器上备份（见 README）。</translation>
    </message>
    <message>
        <source>pg_dump failed: {detail}</source>
        <translation>pg_dump 失败：{detail}</translation>
    </message>
    <message>
        <source>The backup&apos;s ID numbers need its key file: put {name} beside the backup.</source>
        <translation>备份中的身份证号需要它的密钥文件：请把 {name} 放在备份文件旁边。</translation>
    </message>
    <message>
        <source>A PostgreSQL server is restored with pg_restore on the server (see README).</source>
        <translation>PostgreSQL 服务器请在服务器上用 pg_restore 恢复（见 README）。</translation>
    </message>
    <message>
        <source>{path} is not a MemberDesk backup.</source>
        <translation>{path} 不是会员台的备份。</translation>
    </message>
    <message>
        <source>The backup was made by a newer MemberDesk (schema {revision}); update first.</source>
        <translation>该备份由更新版本的会员台制作（数据结构 {revision}），请先升级。</translation>
    </message>
    <message>
        <source>{path} is a backup of another store; this store already has members or sales.</source>
        <translation>{path} 是另一家店的备份，而本店已有会员或消费记录。</translation>
    </message>
    <message>
        <source>The backup file is damaged: {detail}</source>
        <translation>备份文件已损坏：{detail}</translation>
    </message>
    <message>
        <source>Deleting a member&apos;s personal data cannot be undone: run the command again with --yes. Nothing was changed.</source>
        <translation>删除会员个人信息后无法恢复：确认请加上 --yes 再运行一次。未做任何更改。</translation>
    </message>
    <message>
        <source>The last day comes before the first.</source>
        <translation>结束日期早于开始日期。</translation>
    </message>
    <message>
        <source>--limit must be between 1 and 10,000.</source>
        <translation>--limit 必须在 1 到 10,000 之间。</translation>
    </message>
    <message>
        <source>The number of days must be between 1 and 36,500.</source>
        <translation>天数必须在 1 到 36,500 之间。</translation>
    </message>
    <message>
        <source>No branch named {name}.</source>
        <translation>没有名为{name}的门店。</translation>
    </message>
    <message>
        <source>Only {left} of the campaign&apos;s {total} coupons are left to issue.</source>
        <translation>本活动共 {total} 张，只剩 {left} 张可发。</translation>
    </message>
    <message>
        <source>Nobody to issue coupons to.</source>
        <translation>没有可发券的对象。</translation>
    </message>
    <message>
        <source>Issue between 1 and {most} coupons at a time.</source>
        <translation>每次发放 1 到 {most} 张。</translation>
    </message>
    <message>
        <source>An ended campaign&apos;s coupons are not printed any more.</source>
        <translation>已结束活动的优惠券不再打印。</translation>
    </message>
    <message>
        <source>Every valid coupon of this campaign was printed already.</source>
        <translation>本活动所有可用的券都已打印过。</translation>
    </message>
    <message>
        <source>No valid coupons to print: issue some first.</source>
        <translation>没有可打印的券：请先发放。</translation>
    </message>
    <message>
        <source>Coupon not found.</source>
        <translation>找不到该优惠券。</translation>
    </message>
    <message>
        <source>Only a coupon not yet used can be voided.</source>
        <translation>只有未使用的券可以作废。</translation>
    </message>
    <message>
        <source>No birthday coupons to print for this week&apos;s birthdays. Birthday coupons are issued by the daily maintenance to members with marketing consent once they are switched on in the settings.</source>
        <translation>本周寿星没有可打印的生日券。在设置中开启生日券后，每日维护会给同意营销的会员发券。</translation>
    </message>
    <message>
        <source>The server {address} did not answer: {reason}</source>
        <translation>服务器 {address} 没有响应：{reason}</translation>
    </message>
    <message>
        <source>{address} is not a PostgreSQL address; it looks like postgresql+psycopg://user:password@server/memberdesk</source>
        <translation>{address} 不是 PostgreSQL 地址；正确格式如 postgresql+psycopg://用户:密码@服务器/memberdesk</translation>
    </message>
    <message>
        <source>Enter the store&apos;s name (at most 60 characters).</source>
        <translation>请输入门店名称（最多 60 个字符）。</translation>
    </message>
    <message>
        <source>One point per ¥1 to ¥1,000 spent.</source>
        <translation>每消费 ￥1 至 ￥1,000 积 1 分。</translation>
    </message>
    <message>
        <source>¥1 is worth 1 to 100,000 points.</source>
        <translation>￥1 可抵 1 至 100,000 积分。</translation>
    </message>
    <message>
        <source>Points last 1 to 120 months, or 0 for ever.</source>
        <translation>积分有效期为 1 至 120 个月，0 表示永久有效。</translation>
    </message>
    <message>
        <source>{what}: not a date (use YYYY-MM-DD or YYYY/M/D): {value}</source>
        <translation>{what}：不是日期（请用 YYYY-MM-DD 或 YYYY/M/D）：{value}</translation>
    </message>
    <message>
        <source>{what}: a date lies in the future or before 1900.</source>
        <translation>{what}：日期在将来或早于 1900 年。</translation>
    </message>
    <message>
        <source>Points must be a whole number from 0 to {max}: {value}</source>
        <translation>积分须为 0 到 {max} 之间的整数：{value}</translation>
    </message>
    <message>
        <source>{what}: a time zone offset is at most ±14:00: {value}</source>
        <translation>{what}：时区偏移最多为 ±14:00：{value}</translation>
    </message>
    <message>
        <source>The line cannot be read: {reason}</source>
        <translation>这一行无法读取：{reason}</translation>
    </message>
    <message>
        <source>Same {what} as line {line} of this file: {value}</source>
        <translation>与本文件第 {line} 行的{what}相同：{value}</translation>
    </message>
    <message>
        <source>The import stopped ({reason}) after {rows} rows of the file were committed: {imported} imported, {already} already there, {refused} refused. Importing the file again adds the rest.</source>
        <translation>导入中途停止（{reason}），已提交文件的 {rows} 行：导入 {imported} 条，已存在 {already} 条，拒绝 {refused} 条。再次导入该文件即可补上其余部分。</translation>
    </message>
    <message>
        <source>The import stopped ({reason}); nothing was imported.</source>
        <translation>导入中途停止（{reason}），没有导入任何数据。</translation>
    </message>
    <message>
        <source>Member not found: {value}</source>
        <translation>找不到会员：{value}</translation>
    </message>
    <message>
        <source>Receipt {receipt} is also on line {line}, with another member or amount.</source>
        <translation>小票 {receipt} 也出现在第 {line} 行，但会员或金额不同。</translation>
    </message>
    <message>
        <source>The amount must be from ¥0 to ¥1,000,000.</source>
        <translation>金额须在 ¥0 到 ¥1,000,000 之间。</translation>
    </message>
    <message>
        <source>A receipt number may hold no spaces or control characters.</source>
        <translation>小票号不能含空格或控制字符。</translation>
    </message>
    <message>
        <source>Receipt {receipt} is already recorded ({earlier}) for {amount} with another member.</source>
        <translation>小票 {receipt} 已记录（{earlier}），金额 {amount}，属于另一位会员。</translation>
    </message>
    <message>
        <source>Receipt {receipt} is already recorded ({earlier}) with another amount: {amount}.</source>
        <translation>小票 {receipt} 已记录（{earlier}），金额不同：{amount}。</translation>
    </message>
    <message>
        <source>Only .csv, .txt and .xlsx files can be imported.</source>
        <translation>只能导入 .csv、.txt 和 .xlsx 文件。</translation>
    </message>
    <message>
        <source>A value has more than {max} characters.</source>
        <translation>有一个值超过 {max} 个字符。</translation>
    </message>
    <message>
        <source>The segment refresh was cancelled; the previous results are kept.</source>
        <translation>客户分群刷新已取消，保留上次的结果。</translation>
    </message>
    <message>
        <source>The as-of date {date} is in the future; the latest day with figures is today.</source>
        <translation>截止日期 {date} 在未来；最晚只能算到今天。</translation>
    </message>
    <message>
        <source>A birthday month is 1 to 12.</source>
        <translation>生日月份应为 1 到 12。</translation>
    </message>
    <message>
        <source>The lowest spend is above the highest.</source>
        <translation>最低消费高于最高消费。</translation>
    </message>
    <message>
        <source>A segment needs a name of at most 100 characters.</source>
        <translation>客户分群需要一个不超过 100 个字符的名称。</translation>
    </message>
    <message>
        <source>Unknown segment: {name}</source>
        <translation>未知的分群：{name}</translation>
    </message>
    <message>
        <source>A segment named {name} already exists.</source>
        <translation>已有名为 {name} 的客户分群。</translation>
    </message>
    <message>
        <source>Segment not found.</source>
        <translation>找不到该客户分群。</translation>
    </message>
    <message>
        <source>The key file {path} cannot be read on this PC or by this account ({reason}).</source>
        <translation>这台电脑或这个账户无法读取密钥文件 {path}（{reason}）。</translation>
    </message>
    <message>
        <source>The key file {path} is damaged: it holds no MemberDesk key.</source>
        <translation>密钥文件 {path} 已损坏：其中没有会员台密钥。</translation>
    </message>
    <message>
        <source>The passphrase does not open the key file {path}.</source>
        <translation>口令无法打开密钥文件 {path}。</translation>
    </message>
    <message>
        <source>{path} is not a MemberDesk key export.</source>
        <translation>{path} 不是会员台导出的密钥文件。</translation>
    </message>
    <message>
        <source>The passphrase needs at least {count} characters.</source>
        <translation>口令至少需要 {count} 个字符。</translation>
    </message>
    <message>
        <source>This counter already has another key ({path}). Importing over it would make the ID numbers it encrypted unreadable: move that file away first if this counter&apos;s own data is not needed.</source>
        <translation>这台收银机已有另一个密钥（{path}）。覆盖导入会使用它加密的身份证号无法读取：如果不再需要这台收银机自己的数据，请先把该文件移走。</translation>
    </message>
    <message>
        <source>Not enough {gift} in stock.</source>
        <translation>{gift}库存不足。</translation>
    </message>
    <message>
        <source>A coupon cannot take off more than the purchase amount.</source>
        <translation>优惠券抵扣不能超过消费金额。</translation>
    </message>
    <message>
        <source>A line has a negative amount or quantity.</source>
        <translation>有明细行的金额或数量为负数。</translation>
    </message>
    <message>
        <source>Unknown category: {code}</source>
        <translation>未知品类：{code}</translation>
    </message>
    <message>
        <source>The member must agree to membership terms before registering.</source>
        <translation>会员必须同意会员条款才能注册。</translation>
    </message>
    <message>
        <source>The birthday is not a possible date.</source>
        <translation>生日不是有效日期。</translation>
    </message>
    <message>
        <source>Too many wrong PINs. Try again in {seconds} seconds.</source>
        <translation>PIN 码错误次数过多，请 {seconds} 秒后再试。</translation>
    </message>
    <message>
        <source>Locked after {count} wrong PINs in a row. An owner can reset the PIN; else wait a day.</source>
        <translation>连续 {count} 次 PIN 码错误，账户已锁定。请老板重置 PIN 码，或一天后再试。</translation>
    </message>
    <message>
        <source>The store {path} is already open in {program} (process {pid}) on the PC {host}, since {since}. Close it there first: two programs writing one store file can damage it.</source>
        <translation>门店数据 {path} 已被电脑 {host} 上的 {program}（进程 {pid}）打开，自 {since} 起。请先在那里关闭：两个程序同时写入同一个门店文件可能会损坏它。</translation>
    </message>
    <message>
        <source>The store {path} is already open in another program. Close it first: two programs writing one store file can damage it.</source>
        <translation>门店数据 {path} 已被另一个程序打开。请先关闭它：两个程序同时写入同一个门店文件可能会损坏它。</translation>
    </message>
    <message>
        <source>Referrer not found: enter their full phone or card number.</source>
        <translation>未找到推荐人：请输入其完整手机号或卡号。</translation>
    </message>
    <message>
        <source>The campaign {code} targets this segment: end it before deleting the segment.</source>
        <translation>活动 {code} 面向这个分群：请先结束活动再删除分群。</translation>
    </message>
    <message>
        <source>A member cannot refer themselves.</source>
        <translation>会员不能推荐自己。</translation>
    </message>
    <message>
        <source>No tiers are set up.</source>
        <translation>尚未设置会员等级。</translation>
    </message>
    <message>
        <source>That phone or card was just registered at another counter.</source>
        <translation>该手机号或卡号刚刚在另一个收银台注册。</translation>
    </message>
    <message>
        <source>Not a mainland mobile number: {value}</source>
        <translation>不是有效的大陆手机号：{value}</translation>
    </message>
    <message>
        <source>A name has at most {max} characters.</source>
        <translation>姓名最多 {max} 个字符。</translation>
    </message>
    <message>
        <source>The name contains control characters.</source>
        <translation>姓名含有控制字符。</translation>
    </message>
    <message>
        <source>A member number has at most {max} characters.</source>
        <translation>会员编号最多 {max} 个字符。</translation>
    </message>
    <message>
        <source>A member number may hold no spaces, control characters or digits other than 0–9.</source>
        <translation>会员编号不能含空格、控制字符或 0–9 以外的数字。</translation>
    </message>
    <message>
        <source>Notes have at most {max} characters.</source>
        <translation>备注最多 {max} 个字符。</translation>
    </message>
    <message>
        <source>The notes contain control characters.</source>
        <translation>备注含有控制字符。</translation>
    </message>
    <message>
        <source>A member has at most {max} tags.</source>
        <translation>每位会员最多 {max} 个标签。</translation>
    </message>
    <message>
        <source>An ID number has 17 digits and a check digit or X.</source>
        <translation>身份证号由 17 位数字加 1 位校验码（数字或 X）组成。</translation>
    </message>
    <message>
        <source>The birth date in this ID number does not exist.</source>
        <translation>身份证号中的出生日期不存在。</translation>
    </message>
    <message>
        <source>The ID number&apos;s check digit is wrong; please check the number.</source>
        <translation>身份证号校验码不正确，请核对号码。</translation>
    </message>
    <message>
        <source>A card number has 6 to 20 letters or digits.</source>
        <translation>卡号由 6 到 20 位字母或数字组成。</translation>
    </message>
    <message>
        <source>This card number&apos;s check digit is wrong: scan again or retype it.</source>
        <translation>卡号校验位不正确：请重新扫描或重新输入。</translation>
    </message>
    <message>
        <source>A tag has at most {max} characters.</source>
        <translation>标签最多 {max} 个字符。</translation>
    </message>
    <message>
        <source>Enter an amount in yuan with at most two decimals, e.g. 12.50.</source>
        <translation>请输入以元为单位、最多两位小数的金额，例如 12.50。</translation>
    </message>
    <message>
        <source>The data folder {path} is on a network drive. A store file shared over a network gets damaged when two counters write it: keep the data folder on this PC&apos;s own disk, or let the counters of a chain share a PostgreSQL server (--database).</source>
        <translation>数据文件夹 {path} 位于网络驱动器上。通过网络共享的门店文件在两台收银机同时写入时会损坏：请把数据文件夹放在本机磁盘上，或让连锁门店的收银台共用一台 PostgreSQL 服务器（--database）。</translation>
    </message>
    <message>
        <source>The data folder&apos;s path is {length} characters long, too long for Windows (at most {limit}, with room for the files inside). Choose a shorter folder with --data-dir, e.g. D:\MemberDesk.</source>
        <translation>数据文件夹的路径长 {length} 个字符，对 Windows 来说太长（最多 {limit} 个，需为其中的文件留出空间）。请用 --data-dir 选择较短的文件夹，例如 D:\MemberDesk。</translation>
    </message>
    <message>
        <source>The data folder {path} cannot be written ({reason}). Start MemberDesk with --data-dir and a folder this account may write, or ask the PC&apos;s administrator for access to it.</source>
        <translation>无法写入数据文件夹 {path}（{reason}）。请用 --data-dir 指定本账户可写入的文件夹启动会员台，或请电脑管理员开放该文件夹的权限。</translation>
    </message>
    <message>
        <source>This is a portable copy of MemberDesk (portable.txt lies beside it), but its folder {path} cannot be written: folders under Program Files are read-only for programs. Copy the MemberDesk folder somewhere writable (e.g. D:\MemberDesk), or install it with the installer and remove portable.txt.</source>
        <translation>这是便携版会员台（旁边有 portable.txt），但它所在的文件夹 {path} 无法写入：Program Files 下的文件夹对程序是只读的。请把会员台文件夹复制到可写入的位置（例如 D:\MemberDesk），或使用安装程序安装并删除 portable.txt。</translation>
    </message>
    <message>
        <source>This needs a {role} or above.</source>
        <translation>此操作需要{role}或更高权限。</translation>
    </message>
    <message>
        <source>A PIN has 4 to 8 digits.</source>
        <translation>PIN 码为 4 到 8 位数字。</translation>
    </message>
    <message>
        <source>Choose a PIN other than the starting one.</source>
        <translation>请设置一个不同于初始 PIN 码的新 PIN 码。</translation>
    </message>
    <message>
        <source>A user name has 2 to 40 letters, digits or _.</source>
        <translation>用户名由 2 到 40 个字母、数字或下划线组成。</translation>
    </message>
    <message>
        <source>Enter the name shown on screen.</source>
        <translation>请输入屏幕上显示的姓名。</translation>
    </message>
    <message>
        <source>The user name {name} is taken.</source>
        <translation>用户名 {name} 已被使用。</translation>
    </message>
    <message>
        <source>The last owner account cannot be deactivated.</source>
        <translation>不能停用最后一个老板账号。</translation>
    </message>
    <message>
        <source>{label}: expected text</source>
        <translation>{label}：应为文本</translation>
    </message>
    <message>
        <source>{label}: not one of the choices</source>
        <translation>{label}：不是可选值之一</translation>
    </message>
    <message>
        <source>{label}: expected yes or no</source>
        <translation>{label}：应为“是”或“否”</translation>
    </message>
    <message>
        <source>{label}: expected a whole number</source>
        <translation>{label}：应为整数</translation>
    </message>
    <message>
        <source>{label}: must be between {low} and {high}</source>
        <translation>{label}：必须在 {low} 到 {high} 之间</translation>
    </message>
    <message>
        <source>{label}: expected a list</source>
        <translation>{label}：应为列表</translation>
    </message>
    <message>
        <source>Unknown setting: {key}</source>
        <translation>未知设置项：{key}</translation>
    </message>
    <message>
        <source>The printer {printer} could not be started. Is it on and connected?</source>
        <translation>无法启动打印机 {printer}。请检查打印机是否已开机并连接。</translation>
    </message>
    <message>
        <source>{path} could not be written: {reason}</source>
        <translation>{path} 无法写入：{reason}</translation>
    </message>
    <message>
        <source>The two PINs differ.</source>
        <translation>两次输入的 PIN 码不一致。</translation>
    </message>
    <message>
        <source>Choose the key file exported on the chain&apos;s first counter.</source>
        <translation>请选择在连锁第一台收银机上导出的密钥文件。</translation>
    </message>
</context>
<context>
    <name>FirstRunWizard</name>
    <message>
        <source>MemberDesk: first start on this PC</source>
        <translation>会员台：首次在这台电脑上使用</translation>
    </message>
    <message>
        <source>Making the store…</source>
        <translation>正在准备门店…</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始使用</translation>
    </message>
    <message>
        <source>Next &gt;</source>
        <translation>下一步 &gt;</translation>
    </message>
    <message>
        <source>&lt; Back</source>
        <translation>&lt; 上一步</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>The new store is ready.</source>
        <translation>新门店已准备好。</translation>
    </message>
    <message>
        <source>Joined the chain&apos;s server ({version}).</source>
        <translation>已连接连锁服务器（{version}）。</translation>
    </message>
</context>
<context>
    <name>FollowUps</name>
    <message>
        <source>Churn warning</source>
        <translation>流失预警</translation>
    </message>
    <message>
        <source>Complaint</source>
        <translation>投诉</translation>
    </message>
    <message>
        <source>Birthday</source>
        <translation>生日</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>电话</translation>
    </message>
    <message>
        <source>WeChat</source>
        <translation>微信</translation>
    </message>
    <message>
        <source>In store</source>
        <translation>到店</translation>
    </message>
    <message>
        <source>Win back: has not been in for a while</source>
        <translation>挽回：很久没来了</translation>
    </message>
    <message>
        <source>Call back about the complaint</source>
        <translation>投诉回访</translation>
    </message>
    <message>
        <source>Birthday greeting</source>
        <translation>生日问候</translation>
    </message>
    <message>
        <source>Follow up</source>
        <translation>跟进</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>到期日</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>事项</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>方式</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>负责人</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成日</translation>
    </message>
    <message>
        <source>Outcome and note</source>
        <translation>结果与备注</translation>
    </message>
    <message>
        <source>New follow-up…</source>
        <translation>新建跟进…</translation>
    </message>
    <message>
        <source>Record the outcome…</source>
        <translation>记录结果…</translation>
    </message>
    <message>
        <source>Anyone</source>
        <translation>不指定</translation>
    </message>
    <message>
        <source>Optional: the reason says it</source>
        <translation>可不填：默认按原因命名</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Choose a due day from today on.</source>
        <translation>到期日请选今天或以后。</translation>
    </message>
    <message>
        <source>New follow-up: {name}</source>
        <translation>新建跟进：{name}</translation>
    </message>
    <message>
        <source>New follow-up</source>
        <translation>新建跟进</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Follow-up saved.</source>
        <translation>跟进已保存。</translation>
    </message>
</context>
<context>
    <name>FollowUpsPage</name>
    <message>
        <source>Follow-ups</source>
        <translation>定期跟进</translation>
    </message>
</context>
<context>
    <name>FollowUpsView</name>
    <message>
        <source>Due today</source>
        <translation>今天到期</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>已逾期</translation>
    </message>
    <message>
        <source>All open</source>
        <translation>全部待办</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Record the outcome…</source>
        <translation>记录结果…</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Due today {today} · overdue {overdue} · open {open}</source>
        <translation>今天到期 {today} · 逾期 {overdue} · 待办 {open}</translation>
    </message>
</context>
<context>
    <name>GiftDialog</name>
    <message>
        <source>Redeem a gift</source>
        <translation>兑换礼品</translation>
    </message>
    <message>
        <source>Redeem</source>
        <translation>兑换</translation>
    </message>
    <message>
        <source>{name} · balance {points} points</source>
        <translation>{name} · 积分余额 {points}</translation>
    </message>
    <message>
        <source>Gift</source>
        <translation>礼品</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>In stock</source>
        <translation>库存</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>数量</translation>
    </message>
    <message>
        <source>There are no gifts in the catalogue yet.</source>
        <translation>礼品目录中还没有礼品。</translation>
    </message>
    <message>
        <source>Choose a gift.</source>
        <translation>请选择一件礼品。</translation>
    </message>
    <message>
        <source>Redeemed {quantity} × {gift} for {points} points; balance {balance}.</source>
        <translation>已兑换 {gift} × {quantity}，消耗 {points} 积分，余额 {balance}。</translation>
    </message>
</context>
<context>
    <name>GiftEditDialog</name>
    <message>
        <source>Add a gift</source>
        <translation>添加礼品</translation>
    </message>
    <message>
        <source>Edit a gift</source>
        <translation>编辑礼品</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>e.g. 保温杯 500ml</source>
        <translation>例如：保温杯 500ml</translation>
    </message>
    <message>
        <source>Optional, shown when the counter works in English</source>
        <translation>选填，收银台使用英文界面时显示</translation>
    </message>
    <message>
        <source>Offered at the counter</source>
        <translation>在收银台提供兑换</translation>
    </message>
    <message>
        <source>Only at this branch</source>
        <translation>仅限本门店</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>English name</source>
        <translation>英文名称</translation>
    </message>
    <message>
        <source>Points price</source>
        <translation>所需积分</translation>
    </message>
    <message>
        <source>In stock</source>
        <translation>库存</translation>
    </message>
    <message>
        <source>Added {gift} to the catalogue.</source>
        <translation>已将{gift}加入礼品目录。</translation>
    </message>
    <message>
        <source>Saved {gift}.</source>
        <translation>已保存{gift}。</translation>
    </message>
</context>
<context>
    <name>GiftsPage</name>
    <message>
        <source>Gift</source>
        <translation>礼品</translation>
    </message>
    <message>
        <source>English name</source>
        <translation>英文名称</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>所需积分</translation>
    </message>
    <message>
        <source>In stock</source>
        <translation>库存</translation>
    </message>
    <message>
        <source>Offered</source>
        <translation>提供兑换</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>No</source>
        <translation>否</translation>
    </message>
    <message>
        <source>Where</source>
        <translation>适用门店</translation>
    </message>
    <message>
        <source>All branches</source>
        <translation>所有门店</translation>
    </message>
    <message>
        <source>This branch only</source>
        <translation>仅限本门店</translation>
    </message>
    <message>
        <source>The catalogue is empty. Add the first gift members can redeem points for.</source>
        <translation>礼品目录为空。请添加第一件可供会员用积分兑换的礼品。</translation>
    </message>
    <message>
        <source>Add gift…</source>
        <translation>添加礼品…</translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation>编辑…</translation>
    </message>
</context>
<context>
    <name>History</name>
    <message>
        <source>{kind} (returned)</source>
        <translation>{kind}（已退货）</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Receipt</source>
        <translation>小票号</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>金额</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>实付</translation>
    </message>
    <message>
        <source>Points used</source>
        <translation>抵扣积分</translation>
    </message>
    <message>
        <source>Points earned</source>
        <translation>获得积分</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分变动</translation>
    </message>
    <message>
        <source>Balance</source>
        <translation>余额</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Staff</source>
        <translation>经办人</translation>
    </message>
</context>
<context>
    <name>Import</name>
    <message>
        <source>{imported} imported, {already} already there, {refused} refused</source>
        <translation>导入 {imported} 条，已存在 {already} 条，拒绝 {refused} 条</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Building lookup indexes</source>
        <translation>正在重建查询索引</translation>
    </message>
    <message>
        <source>nothing was imported (all or nothing)</source>
        <translation>未导入任何内容（全部成功或全部不导入）</translation>
    </message>
    <message>
        <source>Sales</source>
        <translation>消费记录</translation>
    </message>
</context>
<context>
    <name>Integrity</name>
    <message>
        <source>{count} members&apos; monthly purchase totals differ from their sales; `main.py segments --recount` counts them again (member ids: {examples})</source>
        <translation>{count} 位会员的月度消费汇总与其消费记录不符；运行 `main.py segments --recount` 可重新汇总（会员 id：{examples}）</translation>
    </message>
    <message>
        <source>{count} days&apos; sales totals differ from the sales; `main.py report recount` counts them again ({examples})</source>
        <translation>{count} 天的销售汇总与消费记录不符；运行 `main.py report recount` 可重新汇总（{examples}）</translation>
    </message>
    <message>
        <source>{count} months of a branch whose members&apos; spend (the Pareto curve) differs from the sales; `main.py segments --recount` counts them again ({examples})</source>
        <translation>{count} 个门店月份的会员消费额（帕累托曲线）与销售记录不一致；`main.py segments --recount` 可重新统计（{examples}）</translation>
    </message>
    <message>
        <source>{count} days&apos; points totals differ from the points ledger; `main.py report recount` counts them again ({examples})</source>
        <translation>{count} 天的积分日汇总与积分流水不符；`main.py report recount` 可重新统计（{examples}）</translation>
    </message>
    <message>
        <source>{count} members&apos; points balance differs from the sum of their ledger (members: {examples})</source>
        <translation>{count} 名会员的积分余额与其积分明细合计不一致（会员：{examples}）</translation>
    </message>
    <message>
        <source>{count} ledger rows whose balance_after is not the running sum (rows: {examples})</source>
        <translation>{count} 条积分明细的 balance_after 与累计值不符（行：{examples}）</translation>
    </message>
    <message>
        <source>{count} members whose open points lots do not add up to their balance (members: {examples})</source>
        <translation>{count} 名会员的未用积分批次合计与余额不符（会员：{examples}）</translation>
    </message>
    <message>
        <source>{count} points lots with a remainder outside 0..points (lots: {examples})</source>
        <translation>{count} 个积分批次的剩余值超出 0 到批次积分的范围（批次：{examples}）</translation>
    </message>
    <message>
        <source>{count} sales whose earned points differ from their ledger rows (sales: {examples})</source>
        <translation>{count} 笔消费的获得积分与积分明细不符（消费：{examples}）</translation>
    </message>
    <message>
        <source>{count} active phone numbers held by more than one member (phones: {examples})</source>
        <translation>{count} 个有效手机号被多名会员使用（手机号：{examples}）</translation>
    </message>
    <message>
        <source>{count} coupons redeemed more than once without a return in between (coupons: {examples})</source>
        <translation>{count} 张优惠券在没有退货的情况下被核销了不止一次（券：{examples}）</translation>
    </message>
    <message>
        <source>{count} coupons whose state differs from their ledger (coupons: {examples})</source>
        <translation>{count} 张优惠券的状态与其流水不一致（券：{examples}）</translation>
    </message>
    <message>
        <source>{count} coupon discounts that belong to no coupon redemption of a sale (sales: {examples})</source>
        <translation>{count} 笔优惠券抵扣没有对应的核销记录（消费：{examples}）</translation>
    </message>
    <message>
        <source>{count} coupon redemptions that name no sale with that coupon (ledger rows: {examples})</source>
        <translation>{count} 条核销记录没有对应的用券消费（流水：{examples}）</translation>
    </message>
    <message>
        <source>{count} complaints whose status is not their last event&apos;s (complaints: {examples})</source>
        <translation>{count} 条投诉的状态与最后一条处理记录不符（投诉：{examples}）</translation>
    </message>
    <message>
        <source>{count} survey forms answered more than once (forms: {examples})</source>
        <translation>{count} 份问卷被录入了不止一次（问卷：{examples}）</translation>
    </message>
    <message>
        <source>{count} survey rewards that differ from the points ledger (forms: {examples})</source>
        <translation>{count} 份问卷奖励与积分流水不符（问卷：{examples}）</translation>
    </message>
    <message>
        <source>{count} complaints whose goodwill points differ from the points ledger (complaints: {examples})</source>
        <translation>{count} 条投诉的补偿积分与积分流水不符（投诉：{examples}）</translation>
    </message>
    <message>
        <source>{count} lookup indexes are missing because an import or demo was stopped half-way; `main.py db upgrade` builds them again ({examples})</source>
        <translation>{count} 个查询索引缺失：导入或演示数据生成中途被停止；运行 `main.py db upgrade` 可重建（{examples}）</translation>
    </message>
    <message>
        <source>SQLite reports the file is damaged: {examples}</source>
        <translation>SQLite 报告数据库文件已损坏：{examples}</translation>
    </message>
    <message>
        <source>{count} rows point at rows that do not exist ({examples})</source>
        <translation>{count} 行引用了不存在的记录（{examples}）</translation>
    </message>
    <message>
        <source>{count} audit entries are missing or out of order in their branch&apos;s chain (at: {examples})</source>
        <translation>{count} 条审计日志在门店日志链中缺失或顺序错乱（位置：{examples}）</translation>
    </message>
    <message>
        <source>{count} audit entries were changed after they were written (entries: {examples})</source>
        <translation>{count} 条审计日志在写入后被改动（日志：{examples}）</translation>
    </message>
    <message>
        <source>{count} branch audit chains end before their recorded head: entries at the end were removed ({examples})</source>
        <translation>{count} 个门店日志链短于记录的末端：末尾的日志被删除了（{examples}）</translation>
    </message>
    <message>
        <source>{count} sales, points-ledger or coupon-ledger rows were not written under any audit entry (rows: {examples})</source>
        <translation>{count} 条消费、积分或优惠券记录没有对应的审计日志（记录：{examples}）</translation>
    </message>
    <message>
        <source>{count} audit entries no longer match the sales or ledger rows they wrote: rows were changed, added or removed (entries: {examples})</source>
        <translation>{count} 条审计日志与其写入的消费或积分记录不再相符：记录被改动、增加或删除（日志：{examples}）</translation>
    </message>
</context>
<context>
    <name>IssueDialog</name>
    <message>
        <source>Issue coupons: {name}</source>
        <translation>发放优惠券：{name}</translation>
    </message>
    <message>
        <source>Issue</source>
        <translation>发放</translation>
    </message>
    <message>
        <source>Member numbers, card numbers or phones, one a line</source>
        <translation>会员编号、卡号或手机号，每行一个</translation>
    </message>
    <message>
        <source>Bearer coupons: anyone may use them. How many?</source>
        <translation>不记名券：任何人都可使用。发放多少张？</translation>
    </message>
    <message>
        <source>One coupon to every member who has fewer than the limit.</source>
        <translation>给每位未达限领数的会员发一张。</translation>
    </message>
    <message>
        <source>One coupon to every member of the tier who has fewer than the limit.</source>
        <translation>给该等级每位未达限领数的会员发一张。</translation>
    </message>
    <message>
        <source>One coupon to each member listed.</source>
        <translation>给列出的每位会员发一张。</translation>
    </message>
    <message>
        <source>One coupon to every member of the segment who has none yet.</source>
        <translation>给分群中还没有这张券的每位会员发一张。</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>All of them</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>How many</source>
        <translation>数量</translation>
    </message>
    <message>
        <source>List the members to issue coupons to.</source>
        <translation>请列出要发券的会员。</translation>
    </message>
    <message>
        <source>{count} coupons issued.</source>
        <translation>已发放 {count} 张优惠券。</translation>
    </message>
</context>
<context>
    <name>JobStatus</name>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the background job; what it finished is kept</source>
        <translation>停止后台任务；已完成的部分保留</translation>
    </message>
    <message>
        <source>{job}: stopped</source>
        <translation>{job}：已停止</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
</context>
<context>
    <name>JoinChainPage</name>
    <message>
        <source>Join the chain&apos;s server</source>
        <translation>连接连锁服务器</translation>
    </message>
    <message>
        <source>Ask for the server&apos;s address and for the key file exported on the chain&apos;s first counter.</source>
        <translation>请向负责人索取服务器地址，以及在连锁第一台收银机上导出的密钥文件。</translation>
    </message>
    <message>
        <source>Test the connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <source>Key file</source>
        <translation>密钥文件</translation>
    </message>
    <message>
        <source>Key file&apos;s passphrase</source>
        <translation>密钥文件口令</translation>
    </message>
    <message>
        <source>The server answered: {version}</source>
        <translation>服务器已响应：{version}</translation>
    </message>
    <message>
        <source>The chain&apos;s key file</source>
        <translation>连锁的密钥文件</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <source>Cashier</source>
        <translation>收银员</translation>
    </message>
    <message>
        <source>Manager</source>
        <translation>店长</translation>
    </message>
    <message>
        <source>Owner</source>
        <translation>老板</translation>
    </message>
    <message>
        <source>Not given</source>
        <translation>未填写</translation>
    </message>
    <message>
        <source>Female</source>
        <translation>女</translation>
    </message>
    <message>
        <source>Male</source>
        <translation>男</translation>
    </message>
    <message>
        <source>Purchase</source>
        <translation>消费</translation>
    </message>
    <message>
        <source>Paid with points</source>
        <translation>积分抵现</translation>
    </message>
    <message>
        <source>Adjustment</source>
        <translation>人工调整</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>积分过期</translation>
    </message>
    <message>
        <source>Return</source>
        <translation>退货</translation>
    </message>
    <message>
        <source>Survey reward</source>
        <translation>问卷奖励</translation>
    </message>
    <message>
        <source>Earned on a purchase</source>
        <translation>消费积分</translation>
    </message>
    <message>
        <source>Gift redemption</source>
        <translation>兑换礼品</translation>
    </message>
    <message>
        <source>Reversed by a return</source>
        <translation>退货冲回</translation>
    </message>
    <message>
        <source>Referral bonus</source>
        <translation>推荐奖励</translation>
    </message>
    <message>
        <source>Imported</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>Frozen</source>
        <translation>已冻结</translation>
    </message>
    <message>
        <source>Anonymised</source>
        <translation>已匿名化</translation>
    </message>
    <message>
        <source>Never expire</source>
        <translation>永不过期</translation>
    </message>
    <message>
        <source>Rolling (months after earning)</source>
        <translation>滚动有效（获得后若干个月）</translation>
    </message>
    <message>
        <source>Yearly clearing date</source>
        <translation>每年固定日期清零</translation>
    </message>
    <message>
        <source>12-month spend</source>
        <translation>近 12 个月消费额</translation>
    </message>
    <message>
        <source>12-month points</source>
        <translation>近 12 个月积分</translation>
    </message>
    <message>
        <source>Reactivate</source>
        <translation>重新启用</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Adjust points</source>
        <translation>调整积分</translation>
    </message>
    <message>
        <source>Delete personal data</source>
        <translation>删除个人信息</translation>
    </message>
    <message>
        <source>Daily backup</source>
        <translation>每日自动备份</translation>
    </message>
    <message>
        <source>Backup</source>
        <translation>备份</translation>
    </message>
    <message>
        <source>Change PIN</source>
        <translation>修改 PIN 码</translation>
    </message>
    <message>
        <source>Deactivate</source>
        <translation>停用</translation>
    </message>
    <message>
        <source>Demo store</source>
        <translation>示例门店</translation>
    </message>
    <message>
        <source>Demo data</source>
        <translation>示例数据</translation>
    </message>
    <message>
        <source>Points expired</source>
        <translation>积分过期</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Member&apos;s data copy</source>
        <translation>会员个人信息副本</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Imported rows</source>
        <translation>导入数据</translation>
    </message>
    <message>
        <source>Upgrade</source>
        <translation>升级</translation>
    </message>
    <message>
        <source>Register</source>
        <translation>注册</translation>
    </message>
    <message>
        <source>Reset PIN</source>
        <translation>重置 PIN 码</translation>
    </message>
    <message>
        <source>Restore</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>修改</translation>
    </message>
    <message>
        <source>Withdraw marketing consent</source>
        <translation>撤回营销同意</translation>
    </message>
    <message>
        <source>Points change</source>
        <translation>积分变动</translation>
    </message>
    <message>
        <source>Gift</source>
        <translation>礼品</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Sale</source>
        <translation>消费</translation>
    </message>
    <message>
        <source>Sales</source>
        <translation>消费记录</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Staff</source>
        <translation>员工</translation>
    </message>
    <message>
        <source>Store</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>MemberDesk</source>
        <translation>会员台</translation>
    </message>
    <message>
        <source>Counter</source>
        <translation>收银台</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Complaints</source>
        <translation>投诉</translation>
    </message>
    <message>
        <source>Coupons</source>
        <translation>优惠券</translation>
    </message>
    <message>
        <source>Surveys</source>
        <translation>问卷</translation>
    </message>
    <message>
        <source>Segments</source>
        <translation>客户分群</translation>
    </message>
    <message>
        <source>Charts</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>Saved segments</source>
        <translation>已存分群</translation>
    </message>
    <message>
        <source>Follow-ups</source>
        <translation>定期跟进</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Close of day</source>
        <translation>今日经营</translation>
    </message>
    <message>
        <source>Data &amp; privacy</source>
        <translation>数据与隐私</translation>
    </message>
    <message>
        <source>Opening the store…</source>
        <translation>正在打开门店数据…</translation>
    </message>
    <message>
        <source>F12 switch operator</source>
        <translation>F12 切换操作员</translation>
    </message>
    <message>
        <source>Please replace the starting PIN</source>
        <translation>请修改初始 PIN 码</translation>
    </message>
    <message>
        <source>You still sign in with the store&apos;s starting PIN. Click to choose your own.</source>
        <translation>您仍在使用门店的初始 PIN 码登录。点击设置您自己的 PIN 码。</translation>
    </message>
    <message>
        <source>&amp;MemberDesk</source>
        <translation>会员台(&amp;M)</translation>
    </message>
    <message>
        <source>Switch operator…</source>
        <translation>切换操作员…</translation>
    </message>
    <message>
        <source>Lock the counter</source>
        <translation>锁定收银台</translation>
    </message>
    <message>
        <source>Change my PIN…</source>
        <translation>修改我的 PIN 码…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>&amp;Go</source>
        <translation>转到(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>About MemberDesk</source>
        <translation>关于会员台</translation>
    </message>
    <message>
        <source>{name} ({role})</source>
        <translation>{name}（{role}）</translation>
    </message>
    <message>
        <source>{store} · {branch}</source>
        <translation>{store} · {branch}</translation>
    </message>
    <message>
        <source>MemberDesk — {store}</source>
        <translation>会员台 — {store}</translation>
    </message>
    <message>
        <source>Daily maintenance</source>
        <translation>每日维护</translation>
    </message>
    <message>
        <source>Coupon maintenance</source>
        <translation>优惠券维护</translation>
    </message>
    <message>
        <source>Daily backup</source>
        <translation>每日备份</translation>
    </message>
    <message>
        <source>Segment refresh</source>
        <translation>客户分群刷新</translation>
    </message>
    <message>
        <source>The store could not be opened: {message}</source>
        <translation>无法打开门店数据：{message}</translation>
    </message>
    <message>
        <source>Signed in as {name} ({role}).</source>
        <translation>已登录：{name}（{role}）。</translation>
    </message>
    <message>
        <source>The new language is used the next time MemberDesk starts.</source>
        <translation>新语言将在下次启动会员台时生效。</translation>
    </message>
    <message>
        <source>MemberDesk {version}
Member management at the store counter.
Log: {log}</source>
        <translation>会员台 {version}
门店收银台会员管理。
日志：{log}</translation>
    </message>
</context>
<context>
    <name>Maintenance</name>
    <message>
        <source>Expiring points</source>
        <translation>积分过期处理</translation>
    </message>
    <message>
        <source>Reviewing tiers</source>
        <translation>等级复核</translation>
    </message>
</context>
<context>
    <name>MemberDialog</name>
    <message>
        <source>Register a member</source>
        <translation>注册会员</translation>
    </message>
    <message>
        <source>Edit member</source>
        <translation>编辑会员</translation>
    </message>
    <message>
        <source>Register</source>
        <translation>注册</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>11-digit mobile number</source>
        <translation>11 位手机号</translation>
    </message>
    <message>
        <source>YYYY-MM-DD (optional)</source>
        <translation>YYYY-MM-DD（选填）</translation>
    </message>
    <message>
        <source>Blank: a new card number is made; or scan the card</source>
        <translation>留空则自动生成新卡号；也可直接扫卡</translation>
    </message>
    <message>
        <source>Optional; stored encrypted</source>
        <translation>选填；加密保存</translation>
    </message>
    <message>
        <source>Referrer&apos;s phone or card number (optional)</source>
        <translation>推荐人的手机号或卡号（选填）</translation>
    </message>
    <message>
        <source>Separated by commas</source>
        <translation>用逗号分隔</translation>
    </message>
    <message>
        <source>The member agrees to the membership terms (required)</source>
        <translation>会员同意会员条款（必选）</translation>
    </message>
    <message>
        <source>The member agrees to receive offers and news (optional)</source>
        <translation>会员同意接收优惠和活动信息（可选）</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Gender</source>
        <translation>性别</translation>
    </message>
    <message>
        <source>Birthday</source>
        <translation>生日</translation>
    </message>
    <message>
        <source>Home branch</source>
        <translation>所属门店</translation>
    </message>
    <message>
        <source>Card number</source>
        <translation>卡号</translation>
    </message>
    <message>
        <source>ID number</source>
        <translation>身份证号</translation>
    </message>
    <message>
        <source>Referred by</source>
        <translation>推荐人</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>Notes</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Open that member</source>
        <translation>打开该会员</translation>
    </message>
    <message>
        <source>Enter the birthday as YYYY-MM-DD, e.g. 1990-05-17.</source>
        <translation>请按 YYYY-MM-DD 格式输入生日，例如 1990-05-17。</translation>
    </message>
    <message>
        <source>Enter the member&apos;s name.</source>
        <translation>请输入会员姓名。</translation>
    </message>
    <message>
        <source>The member must agree to the membership terms first.</source>
        <translation>会员须先同意会员条款才能注册。</translation>
    </message>
    <message>
        <source>Registered {name}. Welcome!</source>
        <translation>{name} 注册成功，欢迎入会！</translation>
    </message>
    <message>
        <source>Saved the changes to {name}.</source>
        <translation>已保存 {name} 的修改。</translation>
    </message>
</context>
<context>
    <name>MemberPanel</name>
    <message>
        <source>Type a phone number, its last 4 digits, a card number, a name or pinyin initials, or scan a member card.

F2 registers a new member.</source>
        <translation>输入手机号、手机尾号4位、卡号、姓名或拼音首字母，或扫描会员卡。

按 F2 注册新会员。</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Expiring soon</source>
        <translation>即将过期</translation>
    </message>
    <message>
        <source>Open complaints</source>
        <translation>未结投诉</translation>
    </message>
    <message>
        <source>Coupons held</source>
        <translation>持有优惠券</translation>
    </message>
    <message>
        <source>Visits</source>
        <translation>到店次数</translation>
    </message>
    <message>
        <source>Total spend</source>
        <translation>累计消费</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>Buys most</source>
        <translation>常购品类</translation>
    </message>
    <message>
        <source>Last visit</source>
        <translation>最近到店</translation>
    </message>
    <message>
        <source>Member since</source>
        <translation>入会日期</translation>
    </message>
    <message>
        <source>Segment</source>
        <translation>客户分群</translation>
    </message>
    <message>
        <source>Referred by</source>
        <translation>推荐人</translation>
    </message>
    <message>
        <source>Follow-up</source>
        <translation>跟进事项</translation>
    </message>
    <message>
        <source>Notes</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Purchases</source>
        <translation>消费记录</translation>
    </message>
    <message>
        <source>Points history</source>
        <translation>积分明细</translation>
    </message>
    <message>
        <source>Coupons</source>
        <translation>优惠券</translation>
    </message>
    <message>
        <source>Follow-ups</source>
        <translation>跟进</translation>
    </message>
    <message>
        <source>Phone {phone}</source>
        <translation>手机 {phone}</translation>
    </message>
    <message>
        <source>Card {card} · No. {number}</source>
        <translation>卡号 {card} · 会员号 {number}</translation>
    </message>
    <message>
        <source>Birthday today!</source>
        <translation>今天生日！</translation>
    </message>
    <message>
        <source>Birthday this week ({date})</source>
        <translation>本周生日（{date}）</translation>
    </message>
    <message>
        <source>Expire by {date}</source>
        <translation>{date} 前过期</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>从未</translation>
    </message>
    <message>
        <source>{count} overdue</source>
        <translation>{count} 条超期</translation>
    </message>
    <message>
        <source>Top tier reached.</source>
        <translation>已是最高等级。</translation>
    </message>
    <message>
        <source>Spend {amount} more within 12 months to reach {tier}.</source>
        <translation>12 个月内再消费 {amount} 即可升级为{tier}。</translation>
    </message>
    <message>
        <source>Earn {points} more points within 12 months to reach {tier}.</source>
        <translation>12 个月内再获得 {points} 积分即可升级为{tier}。</translation>
    </message>
</context>
<context>
    <name>MembersPage</name>
    <message>
        <source>Member no.</source>
        <translation>会员号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>卡号</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Last visit</source>
        <translation>最近到店</translation>
    </message>
    <message>
        <source>Joined</source>
        <translation>入会日期</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Filter: phone, last 4 digits, name, pinyin initials or card number</source>
        <translation>筛选：手机号、尾号4位、姓名、拼音首字母或卡号</translation>
    </message>
    <message>
        <source>Import members…</source>
        <translation>导入会员…</translation>
    </message>
    <message>
        <source>Import members</source>
        <translation>导入会员</translation>
    </message>
    <message>
        <source>Member files (*.csv *.xlsx)</source>
        <translation>会员文件 (*.csv *.xlsx)</translation>
    </message>
    <message>
        <source>Importing {file}</source>
        <translation>正在导入 {file}</translation>
    </message>
    <message>
        <source>Line {line}: {reason}</source>
        <translation>第 {line} 行：{reason}</translation>
    </message>
    <message>
        <source>… and {count} more refused lines</source>
        <translation>……另有 {count} 行被拒绝</translation>
    </message>
    <message>
        <source>{count} members</source>
        <translation>共 {count} 名会员</translation>
    </message>
    <message>
        <source>More than {count} members</source>
        <translation>超过 {count} 名会员</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>MemberDesk</source>
        <translation>会员台</translation>
    </message>
</context>
<context>
    <name>NewPinFields</name>
    <message>
        <source>Repeat the PIN</source>
        <translation>再次输入 PIN 码</translation>
    </message>
    <message>
        <source>The two PINs differ.</source>
        <translation>两次输入的 PIN 码不一致。</translation>
    </message>
</context>
<context>
    <name>NewStorePage</name>
    <message>
        <source>A new store</source>
        <translation>新门店</translation>
    </message>
    <message>
        <source>The owner&apos;s account can do everything; add the cashiers&apos; accounts later.</source>
        <translation>老板账号拥有全部权限；收银员账号可稍后添加。</translation>
    </message>
    <message>
        <source>Owner</source>
        <translation>店主</translation>
    </message>
    <message>
        <source>never</source>
        <translation>永久有效</translation>
    </message>
    <message>
        <source>Store name</source>
        <translation>门店名称</translation>
    </message>
    <message>
        <source>Owner&apos;s name on screen</source>
        <translation>老板显示名称</translation>
    </message>
    <message>
        <source>Owner&apos;s user name</source>
        <translation>老板用户名</translation>
    </message>
    <message>
        <source>Owner&apos;s PIN (4 to 8 digits)</source>
        <translation>老板 PIN 码（4 至 8 位数字）</translation>
    </message>
    <message>
        <source>PIN again</source>
        <translation>再次输入 PIN 码</translation>
    </message>
    <message>
        <source>Spend for one point</source>
        <translation>每积 1 分需消费</translation>
    </message>
    <message>
        <source>Points worth ¥1 at the till</source>
        <translation>收银时多少积分抵 ￥1</translation>
    </message>
    <message>
        <source>Points last (months)</source>
        <translation>积分有效期（月）</translation>
    </message>
</context>
<context>
    <name>NoteDialog</name>
    <message>
        <source>Assign to</source>
        <translation>指派给</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Complaint #{number} updated.</source>
        <translation>投诉 #{number} 已更新。</translation>
    </message>
</context>
<context>
    <name>PeriodBox</name>
    <message>
        <source>All time</source>
        <translation>全部时间</translation>
    </message>
    <message>
        <source>This month</source>
        <translation>本月</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>Last 90 days</source>
        <translation>最近 90 天</translation>
    </message>
    <message>
        <source>Last 12 months</source>
        <translation>最近 12 个月</translation>
    </message>
    <message>
        <source>This year</source>
        <translation>今年</translation>
    </message>
</context>
<context>
    <name>PrintFormsDialog</name>
    <message>
        <source>Print survey forms: {title}</source>
        <translation>打印问卷：{title}</translation>
    </message>
    <message>
        <source>Print</source>
        <translation>打印</translation>
    </message>
    <message>
        <source>Optional: print for one member (member or card number)</source>
        <translation>选填：为某位会员打印（会员编号或卡号）</translation>
    </message>
    <message>
        <source>Forms</source>
        <translation>份数</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Survey forms {first}–{last}</source>
        <translation>问卷 {first}–{last}</translation>
    </message>
</context>
<context>
    <name>PrintPreviewDialog</name>
    <message>
        <source>Print preview: {title}</source>
        <translation>打印预览：{title}</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Print…</source>
        <translation>打印…</translation>
    </message>
    <message>
        <source>Save as PDF…</source>
        <translation>另存为 PDF…</translation>
    </message>
    <message>
        <source>Saved to {path}.</source>
        <translation>已保存到 {path}。</translation>
    </message>
    <message>
        <source>Sent to {printer}.</source>
        <translation>已发送到打印机 {printer}。</translation>
    </message>
    <message>
        <source>Save as PDF</source>
        <translation>另存为 PDF</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>PDF 文件 (*.pdf)</translation>
    </message>
</context>
<context>
    <name>Printing</name>
    <message>
        <source>{value} is too long to print as a barcode here</source>
        <translation>{value} 太长，无法在此处打印为条码</translation>
    </message>
    <message>
        <source>A barcode can only hold letters, digits and ASCII signs: {value}</source>
        <translation>条码只能包含字母、数字和 ASCII 符号：{value}</translation>
    </message>
    <message>
        <source>Too much text for a QR code ({length} bytes, at most {limit})</source>
        <translation>二维码内容过多（{length} 字节，最多 {limit}）</translation>
    </message>
    <message>
        <source>{what} is too long to fit on the card: {text}</source>
        <translation>{what}太长，会员卡上放不下：{text}</translation>
    </message>
    <message>
        <source>The store name</source>
        <translation>门店名称</translation>
    </message>
    <message>
        <source>The member name</source>
        <translation>会员姓名</translation>
    </message>
    <message>
        <source>The tier name</source>
        <translation>等级名称</translation>
    </message>
    <message>
        <source>Valid {start} to {end}</source>
        <translation>有效期 {start} 至 {end}</translation>
    </message>
    <message>
        <source>For {name}</source>
        <translation>{name} 专享</translation>
    </message>
    <message>
        <source>Code {code}</source>
        <translation>券码 {code}</translation>
    </message>
    <message>
        <source>Writing the PDF</source>
        <translation>正在生成 PDF</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机</translation>
    </message>
    <message>
        <source>Points balance</source>
        <translation>积分余额</translation>
    </message>
    <message>
        <source>The points balance is below zero</source>
        <translation>积分余额为负数</translation>
    </message>
    <message>
        <source>Printed at</source>
        <translation>打印时间</translation>
    </message>
    <message>
        <source>The survey is too long to fit on one A4 page; shorten it.</source>
        <translation>问卷太长，一页 A4 放不下，请精简。</translation>
    </message>
</context>
<context>
    <name>Printouts</name>
    <message>
        <source>Member card {name}</source>
        <translation>会员卡 {name}</translation>
    </message>
</context>
<context>
    <name>PrivacyPage</name>
    <message>
        <source>Phone, last 4 digits, card number or name</source>
        <translation>手机号、后4位、卡号或姓名</translation>
    </message>
    <message>
        <source>Find</source>
        <translation>查找</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机</translation>
    </message>
    <message>
        <source>Withdraw marketing consent</source>
        <translation>撤回营销同意</translation>
    </message>
    <message>
        <source>Export their data…</source>
        <translation>导出其个人信息…</translation>
    </message>
    <message>
        <source>Delete personal data…</source>
        <translation>删除个人信息…</translation>
    </message>
    <message>
        <source>Print the privacy notice</source>
        <translation>打印个人信息告知书</translation>
    </message>
    <message>
        <source>A member&apos;s request</source>
        <translation>会员的申请</translation>
    </message>
    <message>
        <source>Joined</source>
        <translation>入会日期</translation>
    </message>
    <message>
        <source>Last visit</source>
        <translation>最近到店</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Delete selected member&apos;s data…</source>
        <translation>删除所选会员的个人信息…</translation>
    </message>
    <message>
        <source>Members to review</source>
        <translation>待复核会员</translation>
    </message>
    <message>
        <source>{total} members have not come for {months} months (the oldest {shown} shown).</source>
        <translation>{total} 位会员已 {months} 个月未到店（显示最久的 {shown} 位）。</translation>
    </message>
    <message>
        <source>Find the member first.</source>
        <translation>请先查找会员。</translation>
    </message>
    <message>
        <source>{name} will receive no more marketing; membership stays.</source>
        <translation>{name} 将不再收到营销信息，会员资格保留。</translation>
    </message>
    <message>
        <source>Save the member&apos;s data in</source>
        <translation>会员个人信息保存到</translation>
    </message>
    <message>
        <source>Saved {path}: {purchases} purchases, {rows} points entries. Hand it to the member only.</source>
        <translation>已保存 {path}：{purchases} 笔消费，{rows} 条积分记录。请只交给会员本人。</translation>
    </message>
    <message>
        <source>Privacy notice</source>
        <translation>个人信息保护告知书</translation>
    </message>
</context>
<context>
    <name>PurchaseDialog</name>
    <message>
        <source>Record a purchase</source>
        <translation>记录消费</translation>
    </message>
    <message>
        <source>Record</source>
        <translation>记录</translation>
    </message>
    <message>
        <source>{name} · balance {points} points</source>
        <translation>{name} · 积分余额 {points}</translation>
    </message>
    <message>
        <source>e.g. 128.50</source>
        <translation>例如 128.50</translation>
    </message>
    <message>
        <source>Optional; scan or type the receipt number</source>
        <translation>选填；扫描或输入小票号</translation>
    </message>
    <message>
        <source>Amount (¥)</source>
        <translation>金额（元）</translation>
    </message>
    <message>
        <source>Receipt no.</source>
        <translation>小票号</translation>
    </message>
    <message>
        <source>Pay with points</source>
        <translation>积分抵扣</translation>
    </message>
    <message>
        <source>Coupon</source>
        <translation>优惠券</translation>
    </message>
    <message>
        <source>Points pay</source>
        <translation>积分抵现</translation>
    </message>
    <message>
        <source>Cash to pay</source>
        <translation>应付现金</translation>
    </message>
    <message>
        <source>Points to earn</source>
        <translation>本次获得积分</translation>
    </message>
    <message>
        <source>Balance after</source>
        <translation>消费后余额</translation>
    </message>
    <message>
        <source>Member day: extra points today!</source>
        <translation>会员日：今天积分加倍！</translation>
    </message>
    <message>
        <source>Enter the points as a whole number.</source>
        <translation>请输入整数积分。</translation>
    </message>
    <message>
        <source>Max: enter the amount first</source>
        <translation>最多可用：请先输入金额</translation>
    </message>
    <message>
        <source>Use max {points}</source>
        <translation>用满 {points}</translation>
    </message>
    <message>
        <source>Record this purchase for {name}?</source>
        <translation>为 {name} 记录这笔消费？</translation>
    </message>
    <message>
        <source>Enter records it · Esc goes back to change it</source>
        <translation>按 Enter 记录 · 按 Esc 返回修改</translation>
    </message>
    <message>
        <source>Cash to pay {cash}</source>
        <translation>应付现金 {cash}</translation>
    </message>
    <message>
        <source>{points} points pay {value}</source>
        <translation>{points} 积分抵 {value}</translation>
    </message>
    <message>
        <source>{earned} points earned</source>
        <translation>获得积分 {earned}</translation>
    </message>
    <message>
        <source>Confirm</source>
        <translation>确认</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>返回</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Purchase of {amount} recorded: {earned} points earned, {used} used; balance {balance}.</source>
        <translation>已记录消费 {amount}：获得 {earned} 积分，抵扣 {used} 积分，余额 {balance}。</translation>
    </message>
    <message>
        <source>Coupon: {amount} off.</source>
        <translation>优惠券减 {amount}。</translation>
    </message>
    <message>
        <source>This purchase was already recorded.</source>
        <translation>这笔消费之前已记录。</translation>
    </message>
    <message>
        <source>Now {tier}!</source>
        <translation>已升级为{tier}！</translation>
    </message>
</context>
<context>
    <name>ResetPinDialog</name>
    <message>
        <source>Reset a PIN</source>
        <translation>重置 PIN 码</translation>
    </message>
    <message>
        <source>Reset PIN</source>
        <translation>重置 PIN 码</translation>
    </message>
    <message>
        <source>{name} ({username})</source>
        <translation>{name}（{username}）</translation>
    </message>
    <message>
        <source>New PIN</source>
        <translation>新 PIN 码</translation>
    </message>
    <message>
        <source>The PIN of {name} was reset.</source>
        <translation>已重置{name}的 PIN 码。</translation>
    </message>
</context>
<context>
    <name>ResolveDialog</name>
    <message>
        <source>Resolve complaint #{number}</source>
        <translation>解决投诉 #{number}</translation>
    </message>
    <message>
        <source>Resolve</source>
        <translation>解决</translation>
    </message>
    <message>
        <source>Required: what was done</source>
        <translation>必填：处理方式</translation>
    </message>
    <message>
        <source>Points added to the member&apos;s balance as an apology</source>
        <translation>作为致歉加到会员账户的积分</translation>
    </message>
    <message>
        <source>No coupon</source>
        <translation>不送券</translation>
    </message>
    <message>
        <source>A coupon of a running member campaign, given to the member</source>
        <translation>从进行中的会员活动送会员一张优惠券</translation>
    </message>
    <message>
        <source>A coupon needs a member; this complaint has none</source>
        <translation>优惠券需要会员；这条投诉没有会员</translation>
    </message>
    <message>
        <source>A refund paid at the till, noted here</source>
        <translation>在收银台退的款，在此备注</translation>
    </message>
    <message>
        <source>Call the customer back</source>
        <translation>回访顾客</translation>
    </message>
    <message>
        <source>Needed for goodwill points or a coupon</source>
        <translation>补偿积分或送券时需要</translation>
    </message>
    <message>
        <source>Resolution</source>
        <translation>处理结果</translation>
    </message>
    <message>
        <source>Goodwill points</source>
        <translation>补偿积分</translation>
    </message>
    <message>
        <source>Coupon</source>
        <translation>补偿优惠券</translation>
    </message>
    <message>
        <source>Refund noted</source>
        <translation>退款（备注）</translation>
    </message>
    <message>
        <source>Manager PIN</source>
        <translation>店长密码</translation>
    </message>
    <message>
        <source>Goodwill points need a member; this complaint has none</source>
        <translation>补偿积分需要会员，此投诉没有关联会员</translation>
    </message>
    <message>
        <source>{name}: {offer} (until {day})</source>
        <translation>{name}：{offer}（至 {day}）</translation>
    </message>
    <message>
        <source>Say what was done to resolve the complaint.</source>
        <translation>请说明如何解决了投诉。</translation>
    </message>
    <message>
        <source>Complaint #{number} resolved.</source>
        <translation>投诉 #{number} 已解决。</translation>
    </message>
</context>
<context>
    <name>RestoreDialog</name>
    <message>
        <source>Restore a backup</source>
        <translation>恢复备份</translation>
    </message>
    <message>
        <source>Restore</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>The store will be replaced by the backup {name}. Everything recorded since that backup is set aside in a copy made first. Other counters should be closed; start MemberDesk again afterwards.</source>
        <translation>本店数据将被备份 {name} 替换。该备份之后记录的一切会先另存一份。请先关闭其他收银机；恢复后请重新启动会员台。</translation>
    </message>
    <message>
        <source>Restored {name}; the state before is kept in {copy}.</source>
        <translation>已恢复 {name}；恢复前的数据保存在 {copy}。</translation>
    </message>
</context>
<context>
    <name>ReturnDialog</name>
    <message>
        <source>Return a purchase</source>
        <translation>消费退货</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>下一步</translation>
    </message>
    <message>
        <source>Receipt no.: scan or type it to find the purchase</source>
        <translation>小票号：扫描或输入以查找该笔消费</translation>
    </message>
    <message>
        <source>Choose the purchase being returned:</source>
        <translation>选择要退货的消费记录：</translation>
    </message>
    <message>
        <source>Reason (optional)</source>
        <translation>原因（选填）</translation>
    </message>
    <message>
        <source>Print slip</source>
        <translation>打印凭条</translation>
    </message>
    <message>
        <source>No purchase of this member has that receipt number.</source>
        <translation>该会员没有此小票号的消费。</translation>
    </message>
    <message>
        <source>Choose a purchase that has not been returned.</source>
        <translation>请选择一笔尚未退货的消费。</translation>
    </message>
    <message>
        <source>Return the purchase of {amount} on {date}?

{earned} points it earned will be taken back and {used} points paid with will be refunded.</source>
        <translation>确定退回 {date} 的 {amount} 消费吗？

将扣回该笔消费获得的 {earned} 积分，并退还抵扣的 {used} 积分。</translation>
    </message>
    <message>
        <source>Confirm return</source>
        <translation>确认退货</translation>
    </message>
    <message>
        <source>Return recorded: {reversed} points taken back, {refunded} points refunded.</source>
        <translation>退货已记录：扣回 {reversed} 积分，退还 {refunded} 积分。</translation>
    </message>
    <message>
        <source>The coupon used on this purchase is valid again.</source>
        <translation>这笔消费使用的优惠券已恢复可用。</translation>
    </message>
    <message>
        <source>New balance: {points} points</source>
        <translation>新余额：{points} 积分</translation>
    </message>
    <message>
        <source>The member had already spent these points; future purchases pay it back first.</source>
        <translation>会员已用掉这些积分；以后消费获得的积分会先用于抵补欠分。</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>Roles</name>
    <message>
        <source>cashier</source>
        <translation>收银员</translation>
    </message>
    <message>
        <source>manager</source>
        <translation>店长</translation>
    </message>
    <message>
        <source>owner</source>
        <translation>老板</translation>
    </message>
</context>
<context>
    <name>SavedSegments</name>
    <message>
        <source>Yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>Member no.</source>
        <translation>会员号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Pyramid</source>
        <translation>金字塔层级</translation>
    </message>
    <message>
        <source>RFM class</source>
        <translation>RFM 分类</translation>
    </message>
    <message>
        <source>Churn warning</source>
        <translation>流失预警</translation>
    </message>
    <message>
        <source>Marketing consent</source>
        <translation>营销同意</translation>
    </message>
    <message>
        <source>Tier: {v}</source>
        <translation>等级：{v}</translation>
    </message>
    <message>
        <source>Pyramid: {v}</source>
        <translation>金字塔：{v}</translation>
    </message>
    <message>
        <source>RFM: {v}</source>
        <translation>RFM：{v}</translation>
    </message>
    <message>
        <source>Stage: {v}</source>
        <translation>生命周期：{v}</translation>
    </message>
    <message>
        <source>No churn warning</source>
        <translation>无流失预警</translation>
    </message>
    <message>
        <source>Birthday in month {m}</source>
        <translation>{m} 月生日</translation>
    </message>
    <message>
        <source>Tags: {v}</source>
        <translation>标签：{v}</translation>
    </message>
    <message>
        <source>Agreed to marketing</source>
        <translation>同意接收营销信息</translation>
    </message>
    <message>
        <source>Did not agree to marketing</source>
        <translation>未同意接收营销信息</translation>
    </message>
    <message>
        <source>Spend from {v}</source>
        <translation>消费不低于 {v}</translation>
    </message>
    <message>
        <source>Spend up to {v}</source>
        <translation>消费不高于 {v}</translation>
    </message>
    <message>
        <source>Every member</source>
        <translation>全部会员</translation>
    </message>
    <message>
        <source>Any</source>
        <translation>不限</translation>
    </message>
</context>
<context>
    <name>SavedSegmentsPage</name>
    <message>
        <source>Saved segments</source>
        <translation>已保存的分群</translation>
    </message>
    <message>
        <source>A saved segment is a named filter over the latest segment refresh and the member fields; its count is live. Pick one to see its members and act on them.</source>
        <translation>已保存的分群是按最近一次分群结果和会员资料设定的筛选条件，人数实时统计。选中一个即可查看其会员并采取行动。</translation>
    </message>
    <message>
        <source>Win back members with a churn warning…</source>
        <translation>挽回有流失预警的会员…</translation>
    </message>
    <message>
        <source>New…</source>
        <translation>新建…</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>改名…</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Coupon campaign…</source>
        <translation>优惠券活动…</translation>
    </message>
    <message>
        <source>Follow-up tasks…</source>
        <translation>跟进任务…</translation>
    </message>
    <message>
        <source>Export contacts…</source>
        <translation>导出联系名单…</translation>
    </message>
    <message>
        <source>{name} ({count})</source>
        <translation>{name}（{count}）</translation>
    </message>
    <message>
        <source>No saved segment yet: New… makes one from the filters.</source>
        <translation>还没有保存的分群：点“新建…”按筛选条件创建。</translation>
    </message>
    <message>
        <source>{total} members</source>
        <translation>{total} 位会员</translation>
    </message>
    <message>
        <source>The first {shown} of {total} members</source>
        <translation>共 {total} 位会员，显示前 {shown} 位</translation>
    </message>
    <message>
        <source>Rename the segment</source>
        <translation>分群改名</translation>
    </message>
    <message>
        <source>New name</source>
        <translation>新名称</translation>
    </message>
    <message>
        <source>Delete the segment</source>
        <translation>删除分群</translation>
    </message>
    <message>
        <source>Delete the saved segment {name}?</source>
        <translation>删除已保存的分群“{name}”？</translation>
    </message>
</context>
<context>
    <name>SegmentDialog</name>
    <message>
        <source>New saved segment</source>
        <translation>新建分群</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Pyramid</source>
        <translation>客户金字塔</translation>
    </message>
    <message>
        <source>RFM class</source>
        <translation>RFM 分类</translation>
    </message>
    <message>
        <source>Lifecycle stage</source>
        <translation>生命周期</translation>
    </message>
    <message>
        <source>With a churn warning</source>
        <translation>有流失预警</translation>
    </message>
    <message>
        <source>Without a churn warning</source>
        <translation>无流失预警</translation>
    </message>
    <message>
        <source>Agreed to marketing</source>
        <translation>同意接收营销信息</translation>
    </message>
    <message>
        <source>Did not agree</source>
        <translation>未同意</translation>
    </message>
    <message>
        <source>Month {m}</source>
        <translation>{m} 月</translation>
    </message>
    <message>
        <source>Tags, separated by commas</source>
        <translation>标签，用逗号分隔</translation>
    </message>
    <message>
        <source>Churn warning</source>
        <translation>流失预警</translation>
    </message>
    <message>
        <source>Marketing consent</source>
        <translation>营销同意</translation>
    </message>
    <message>
        <source>Birthday month</source>
        <translation>生日月份</translation>
    </message>
    <message>
        <source>Tags (any of)</source>
        <translation>标签（任一）</translation>
    </message>
    <message>
        <source>Spend in the period (¥)</source>
        <translation>期间消费（元）</translation>
    </message>
    <message>
        <source>{count} members match now.</source>
        <translation>现在有 {count} 位会员符合。</translation>
    </message>
    <message>
        <source>Give the segment a name.</source>
        <translation>请给分群起个名字。</translation>
    </message>
    <message>
        <source>Segment saved.</source>
        <translation>分群已保存。</translation>
    </message>
</context>
<context>
    <name>Segments</name>
    <message>
        <source>too few buyers for a model fit ({buyers} buyers, {repeaters} came back)</source>
        <translation>购买会员太少，无法拟合模型（{buyers} 位购买，{repeaters} 位回购）</translation>
    </message>
    <message>
        <source>every purchase is on the as-of day</source>
        <translation>所有消费都在截止日当天</translation>
    </message>
    <message>
        <source>the model fit did not converge</source>
        <translation>模型拟合未收敛</translation>
    </message>
    <message>
        <source>Gamma-Gamma (spend in yuan, {n:,} repeat buyers): p = {p:.4f}, q = {q:.4f}, gamma = {gamma:.4f}</source>
        <translation>Gamma-Gamma（金额单位：元，{n:,} 位回购会员）：p = {p:.4f}，q = {q:.4f}，gamma = {gamma:.4f}</translation>
    </message>
    <message>
        <source>Customer pyramid</source>
        <translation>客户金字塔</translation>
    </message>
    <message>
        <source>RFM classes</source>
        <translation>RFM 分类</translation>
    </message>
    <message>
        <source>Lifecycle stages</source>
        <translation>生命周期阶段</translation>
    </message>
    <message>
        <source>Lifecycle moves by month (the largest):</source>
        <translation>生命周期阶段逐月变化（最多的几项）：</translation>
    </message>
    <message>
        <source>Segments as of {date}, {members:,} members, {buyers:,} with purchases</source>
        <translation>截至 {date} 的客户分群：{members:,} 位会员，其中 {buyers:,} 位有消费</translation>
    </message>
    <message>
        <source>Churn warnings: {count:,}</source>
        <translation>流失预警：{count:,} 位</translation>
    </message>
    <message>
        <source>Stored for the member panel: {stored}</source>
        <translation>已保存供会员画像显示：{stored}</translation>
    </message>
    <message>
        <source>BG/NBD (time in weeks): r = {r:.4f}, alpha = {alpha:.4f}, a = {a:.4f}, b = {b:.4f}</source>
        <translation>BG/NBD（时间单位：周）：r = {r:.4f}，alpha = {alpha:.4f}，a = {a:.4f}，b = {b:.4f}</translation>
    </message>
    <message>
        <source>No model fitted ({reason}); the interval rule was used instead.</source>
        <translation>未拟合模型（{reason}），改用购买间隔规则。</translation>
    </message>
    <message>
        <source>{count:,} purchases after the as-of date were left out.</source>
        <translation>截止日期之后的 {count:,} 笔消费未计入。</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no (not the latest day)</source>
        <translation>否（不是最近一天）</translation>
    </message>
    <message>
        <source>VIP</source>
        <translation>VIP客户</translation>
    </message>
    <message>
        <source>Major customer</source>
        <translation>大客户</translation>
    </message>
    <message>
        <source>Regular customer</source>
        <translation>普通客户</translation>
    </message>
    <message>
        <source>Small customer</source>
        <translation>小客户</translation>
    </message>
    <message>
        <source>Important value customer</source>
        <translation>重要价值客户</translation>
    </message>
    <message>
        <source>Important development customer</source>
        <translation>重要发展客户</translation>
    </message>
    <message>
        <source>Important keep customer</source>
        <translation>重要保持客户</translation>
    </message>
    <message>
        <source>Important retention customer</source>
        <translation>重要挽留客户</translation>
    </message>
    <message>
        <source>General value customer</source>
        <translation>一般价值客户</translation>
    </message>
    <message>
        <source>General development customer</source>
        <translation>一般发展客户</translation>
    </message>
    <message>
        <source>General keep customer</source>
        <translation>一般保持客户</translation>
    </message>
    <message>
        <source>General retention customer</source>
        <translation>一般挽留客户</translation>
    </message>
    <message>
        <source>Keep them close: VIP service, first look at new goods, no discounts needed.</source>
        <translation>重点维护：提供VIP专属服务、新品优先体验，无需打折。</translation>
    </message>
    <message>
        <source>Recent and big spenders who come rarely: member-day offers to come more often.</source>
        <translation>近期消费高但来得少：用会员日优惠提高到店频次。</translation>
    </message>
    <message>
        <source>Frequent big spenders who have not come lately: call them, a personal invitation.</source>
        <translation>常来且消费高但最近没来：主动电话联系，专人邀约。</translation>
    </message>
    <message>
        <source>Big spenders slipping away: win them back now with a strong personal offer.</source>
        <translation>高消费客户正在流失：立即用有力度的专属优惠挽回。</translation>
    </message>
    <message>
        <source>Frequent and recent but small baskets: bundles and add-on offers to raise spend.</source>
        <translation>常来且近期来过但客单价低：用组合购、加价购提升客单价。</translation>
    </message>
    <message>
        <source>New or occasional small buyers: a welcome coupon and reasons to return.</source>
        <translation>新客或偶尔小额消费：发迎新券，给出再次到店的理由。</translation>
    </message>
    <message>
        <source>Used to come often, small baskets, not lately: a reminder with a small coupon.</source>
        <translation>以前常来、客单价低、最近没来：发小额券提醒回店。</translation>
    </message>
    <message>
        <source>Low value and lapsed: low-cost messages only.</source>
        <translation>低价值且已沉睡：只做低成本触达。</translation>
    </message>
    <message>
        <source>Registered, no purchase</source>
        <translation>注册未购买</translation>
    </message>
    <message>
        <source>New</source>
        <translation>新客</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>活跃</translation>
    </message>
    <message>
        <source>Loyal</source>
        <translation>忠诚</translation>
    </message>
    <message>
        <source>Dormant</source>
        <translation>沉睡</translation>
    </message>
    <message>
        <source>Lost</source>
        <translation>流失</translation>
    </message>
    <message>
        <source>BG/NBD + Gamma-Gamma</source>
        <translation>BG/NBD + Gamma-Gamma 模型</translation>
    </message>
    <message>
        <source>purchase-interval rule</source>
        <translation>购买间隔规则</translation>
    </message>
    <message>
        <source>no purchase</source>
        <translation>无消费</translation>
    </message>
    <message>
        <source>Churn warning: still-active probability {percent}%</source>
        <translation>流失预警：仍活跃概率 {percent}%</translation>
    </message>
    <message>
        <source>Suggested: {action}</source>
        <translation>建议：{action}</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Counting monthly totals</source>
        <translation>正在汇总月度消费</translation>
    </message>
    <message>
        <source>Reading members and totals</source>
        <translation>正在读取会员和汇总</translation>
    </message>
    <message>
        <source>Computing segments and fitting the models</source>
        <translation>正在计算分群并拟合模型</translation>
    </message>
    <message>
        <source>Storing the results</source>
        <translation>正在保存结果</translation>
    </message>
</context>
<context>
    <name>SegmentsPage</name>
    <message>
        <source>Customer segments</source>
        <translation>客户分群</translation>
    </message>
    <message>
        <source>Refresh segments</source>
        <translation>刷新客户分群</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Customer pyramid</source>
        <translation>客户金字塔</translation>
    </message>
    <message>
        <source>RFM classes</source>
        <translation>RFM 分类</translation>
    </message>
    <message>
        <source>Lifecycle stages</source>
        <translation>生命周期阶段</translation>
    </message>
    <message>
        <source>Segments have not been computed yet. Refresh to compute them now.</source>
        <translation>尚未计算客户分群。点击刷新即可立即计算。</translation>
    </message>
    <message>
        <source>As of {date}: {members} members, model: {model} {params}</source>
        <translation>截至 {date}：{members} 位会员，模型：{model} {params}</translation>
    </message>
    <message>
        <source>Refreshed: as of {date}</source>
        <translation>已刷新：截至 {date}</translation>
    </message>
</context>
<context>
    <name>ServerStatus</name>
    <message>
        <source>Server: connected</source>
        <translation>服务器：已连接</translation>
    </message>
    <message>
        <source>The server cannot be reached — retrying</source>
        <translation>服务器暂时连不上 — 正在重试</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Store name</source>
        <translation>门店名称</translation>
    </message>
    <message>
        <source>Store time zone</source>
        <translation>门店时区</translation>
    </message>
    <message>
        <source>Spend (fen) for one point</source>
        <translation>每积 1 分所需消费（分）</translation>
    </message>
    <message>
        <source>Points worth ¥1</source>
        <translation>多少积分抵 1 元</translation>
    </message>
    <message>
        <source>Most of a purchase payable in points (%)</source>
        <translation>积分最多可抵消费的比例（%）</translation>
    </message>
    <message>
        <source>Points expiry</source>
        <translation>积分有效期规则</translation>
    </message>
    <message>
        <source>Points last (months)</source>
        <translation>积分有效期（月）</translation>
    </message>
    <message>
        <source>Yearly clearing date (MM-DD)</source>
        <translation>每年清零日期（MM-DD）</translation>
    </message>
    <message>
        <source>Warn of expiring points (days ahead)</source>
        <translation>积分到期提前提醒（天）</translation>
    </message>
    <message>
        <source>Member day weekday (0=Mon, -1=none)</source>
        <translation>会员日（0=周一，-1=无）</translation>
    </message>
    <message>
        <source>Member days from (YYYY-MM-DD)</source>
        <translation>会员活动开始日期（YYYY-MM-DD）</translation>
    </message>
    <message>
        <source>Member days until (YYYY-MM-DD)</source>
        <translation>会员活动结束日期（YYYY-MM-DD）</translation>
    </message>
    <message>
        <source>Member day multiplier (%)</source>
        <translation>会员日积分倍率（%）</translation>
    </message>
    <message>
        <source>Categories that earn no points</source>
        <translation>不积分的品类</translation>
    </message>
    <message>
        <source>Cashier adjustment limit</source>
        <translation>收银员调整积分上限</translation>
    </message>
    <message>
        <source>Referral bonus (points)</source>
        <translation>推荐奖励（积分）</translation>
    </message>
    <message>
        <source>Tiers by</source>
        <translation>等级依据</translation>
    </message>
    <message>
        <source>Tier review after (months)</source>
        <translation>等级复核周期（月）</translation>
    </message>
    <message>
        <source>Card number prefix</source>
        <translation>卡号前缀</translation>
    </message>
    <message>
        <source>Print member cards</source>
        <translation>打印会员卡</translation>
    </message>
    <message>
        <source>Birthday coupons (automatic)</source>
        <translation>生日券（自动发放）</translation>
    </message>
    <message>
        <source>Birthday coupons: days before the birthday</source>
        <translation>生日券：提前几天发放</translation>
    </message>
    <message>
        <source>Birthday coupons: amount off (fen)</source>
        <translation>生日券：减免金额（分）</translation>
    </message>
    <message>
        <source>Holiday coupons (automatic)</source>
        <translation>节日券（自动发放）</translation>
    </message>
    <message>
        <source>Holidays (NAME=YYYY-MM-DD, one per year each)</source>
        <translation>节日（名称=年-月-日，每年各一行）</translation>
    </message>
    <message>
        <source>Holiday coupons: days before the holiday</source>
        <translation>节日券：提前几天发放</translation>
    </message>
    <message>
        <source>Holiday coupons: amount off (fen)</source>
        <translation>节日券：减免金额（分）</translation>
    </message>
    <message>
        <source>Win-back coupons for churn warnings (automatic)</source>
        <translation>流失预警挽回券（自动）</translation>
    </message>
    <message>
        <source>Win-back coupons: amount off (fen)</source>
        <translation>挽回券：减免金额（分）</translation>
    </message>
    <message>
        <source>Logo on coupons (image file; empty: the store&apos;s initial)</source>
        <translation>优惠券上的标志（图片文件；留空则用店名首字）</translation>
    </message>
    <message>
        <source>Members inactive for review after (months)</source>
        <translation>会员未到店多久后复核（月）</translation>
    </message>
    <message>
        <source>Segments: period (months)</source>
        <translation>客户分群：统计周期（月）</translation>
    </message>
    <message>
        <source>Pyramid: VIP share (%)</source>
        <translation>金字塔：VIP客户占比（%）</translation>
    </message>
    <message>
        <source>Pyramid: major customers&apos; share (%)</source>
        <translation>金字塔：大客户占比（%）</translation>
    </message>
    <message>
        <source>Pyramid: regular customers&apos; share (%)</source>
        <translation>金字塔：普通客户占比（%）</translation>
    </message>
    <message>
        <source>Lifecycle: new for (days)</source>
        <translation>生命周期：新客期（天）</translation>
    </message>
    <message>
        <source>Lifecycle: lost after (days)</source>
        <translation>生命周期：超过多少天未购买算流失</translation>
    </message>
    <message>
        <source>Lifecycle: loyal from (purchase months of 12)</source>
        <translation>生命周期：近12个月有几个月购买算忠诚</translation>
    </message>
    <message>
        <source>Lifecycle: dormant after (% of usual interval)</source>
        <translation>生命周期：超过平时购买间隔的百分之几算沉睡</translation>
    </message>
    <message>
        <source>Churn warning below P(alive) (%)</source>
        <translation>仍活跃概率低于（%）时流失预警</translation>
    </message>
    <message>
        <source>Churn warning from (purchase days)</source>
        <translation>购买天数达到多少才做流失预警</translation>
    </message>
    <message>
        <source>Customer value horizon (days)</source>
        <translation>客户价值预测期（天）</translation>
    </message>
</context>
<context>
    <name>SettingsArea</name>
    <message>
        <source>Store settings</source>
        <translation>门店设置</translation>
    </message>
    <message>
        <source>Gift catalogue</source>
        <translation>礼品目录</translation>
    </message>
    <message>
        <source>Member tiers</source>
        <translation>会员等级</translation>
    </message>
    <message>
        <source>Staff accounts</source>
        <translation>员工账号</translation>
    </message>
    <message>
        <source>This PC</source>
        <translation>本机设置</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source>Save settings</source>
        <translation>保存设置</translation>
    </message>
    <message>
        <source>These settings apply to every counter of the store.</source>
        <translation>这些设置对门店的所有收银台生效。</translation>
    </message>
    <message>
        <source>Only the owner can change these settings; you can look at them.</source>
        <translation>只有老板可以修改这些设置；您可以查看。</translation>
    </message>
    <message>
        <source>Settings saved.</source>
        <translation>设置已保存。</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Switch operator</source>
        <translation>切换操作员</translation>
    </message>
    <message>
        <source>Counter locked</source>
        <translation>收银台已锁定</translation>
    </message>
    <message>
        <source>The counter was locked while nobody used it. {name}, type your PIN to go on where you were. If someone else signs in, the open member is closed.</source>
        <translation>收银台在无人操作时已锁定。{name}，请输入 PIN 码继续刚才的操作。如由其他人登录，当前打开的会员将被关闭。</translation>
    </message>
    <message>
        <source>Choose your account (type the first letters of your user name), then your PIN.</source>
        <translation>请选择您的账户（可输入用户名的前几个字母），再输入 PIN 码。</translation>
    </message>
    <message>
        <source>Choose your account and type your PIN.</source>
        <translation>请选择您的账户并输入 PIN 码。</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>账户</translation>
    </message>
    <message>
        <source>PIN</source>
        <translation>PIN 码</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>{username} — {name} ({role})</source>
        <translation>{username} — {name}（{role}）</translation>
    </message>
    <message>
        <source>Type your PIN.</source>
        <translation>请输入 PIN 码。</translation>
    </message>
</context>
<context>
    <name>Slips</name>
    <message>
        <source>Points redemption slip</source>
        <translation>积分兑换凭条</translation>
    </message>
    <message>
        <source>Receipt no.</source>
        <translation>小票号</translation>
    </message>
    <message>
        <source>Purchase amount</source>
        <translation>消费金额</translation>
    </message>
    <message>
        <source>Points used</source>
        <translation>使用积分</translation>
    </message>
    <message>
        <source>Paid with points</source>
        <translation>积分抵扣</translation>
    </message>
    <message>
        <source>Amount paid</source>
        <translation>实付金额</translation>
    </message>
    <message>
        <source>Purchased at</source>
        <translation>消费时间</translation>
    </message>
    <message>
        <source>Points earned</source>
        <translation>本次获得积分</translation>
    </message>
    <message>
        <source>Gift redemption slip</source>
        <translation>礼品兑换凭条</translation>
    </message>
    <message>
        <source>Gift</source>
        <translation>礼品</translation>
    </message>
    <message>
        <source>Return slip</source>
        <translation>退货凭条</translation>
    </message>
    <message>
        <source>Amount returned</source>
        <translation>退货金额</translation>
    </message>
    <message>
        <source>Points taken back</source>
        <translation>扣回积分</translation>
    </message>
    <message>
        <source>Points refunded</source>
        <translation>退还积分</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>退货原因</translation>
    </message>
</context>
<context>
    <name>StaffPage</name>
    <message>
        <source>Change my PIN…</source>
        <translation>修改我的 PIN 码…</translation>
    </message>
    <message>
        <source>Username</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>Deactivated</source>
        <translation>已停用</translation>
    </message>
    <message>
        <source>Add staff…</source>
        <translation>添加员工…</translation>
    </message>
    <message>
        <source>Deactivate</source>
        <translation>停用</translation>
    </message>
    <message>
        <source>Reset PIN…</source>
        <translation>重置 PIN 码…</translation>
    </message>
    <message>
        <source>Signed in as {name} ({role})</source>
        <translation>当前登录：{name}（{role}）</translation>
    </message>
    <message>
        <source>Reactivate</source>
        <translation>重新启用</translation>
    </message>
    <message>
        <source>{name} can sign in again.</source>
        <translation>{name}已可重新登录。</translation>
    </message>
    <message>
        <source>{name} can no longer sign in.</source>
        <translation>{name}已停用，无法再登录。</translation>
    </message>
</context>
<context>
    <name>SurveyEntryView</name>
    <message>
        <source>Scan or type the form number, then Enter</source>
        <translation>扫描或输入问卷编号，然后按回车</translation>
    </message>
    <message>
        <source>Save (Enter on the last answer)</source>
        <translation>保存（最后一题按回车）</translation>
    </message>
    <message>
        <source>Form number</source>
        <translation>问卷编号</translation>
    </message>
    <message>
        <source>{title} v{version}</source>
        <translation>{title} 第 {version} 版</translation>
    </message>
    <message>
        <source>member {name}</source>
        <translation>会员 {name}</translation>
    </message>
    <message>
        <source>reward {points} points</source>
        <translation>奖励 {points} 积分</translation>
    </message>
    <message>
        <source>Form {form} saved.</source>
        <translation>问卷 {form} 已保存。</translation>
    </message>
    <message>
        <source>The member got {points} points.</source>
        <translation>会员获得 {points} 积分。</translation>
    </message>
    <message>
        <source>{count} entered in this session.</source>
        <translation>本次已录入 {count} 份。</translation>
    </message>
</context>
<context>
    <name>SurveyResultsView</name>
    <message>
        <source>By month</source>
        <translation>按月</translation>
    </message>
    <message>
        <source>By week</source>
        <translation>按周</translation>
    </message>
    <message>
        <source>All branches</source>
        <translation>全部门店</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Question</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Answers</source>
        <translation>回答数</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>平均分</translation>
    </message>
    <message>
        <source>Branch</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>Responses</source>
        <translation>答卷数</translation>
    </message>
    <message>
        <source>Written answers (newest first)</source>
        <translation>文字意见（最新在前）</translation>
    </message>
    <message>
        <source>{count} responses · CSAT {csat}% · NPS {nps}</source>
        <translation>{count} 份答卷 · CSAT {csat}% · NPS {nps}</translation>
    </message>
</context>
<context>
    <name>SurveyTemplatesView</name>
    <message>
        <source>New survey</source>
        <translation>新建问卷</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Title (English)</source>
        <translation>标题（英文）</translation>
    </message>
    <message>
        <source>Note printed under the title</source>
        <translation>标题下方的说明</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>题型</translation>
    </message>
    <message>
        <source>Question</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Question (English)</source>
        <translation>问题（英文）</translation>
    </message>
    <message>
        <source>Choices (A; B; … , English after |)</source>
        <translation>选项（A; B; …，英文写在 | 之后）</translation>
    </message>
    <message>
        <source>Add question</source>
        <translation>添加问题</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Move up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Move down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Preview…</source>
        <translation>预览…</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>{code} · {title} · v{version} · {forms} forms, {answers} answers</source>
        <translation>{code} · {title} · 第 {version} 版 · 已印 {forms} 份，回收 {answers} 份</translation>
    </message>
    <message>
        <source>new</source>
        <translation>新建</translation>
    </message>
    <message>
        <source>Forms of this version were printed or answered: saving makes version {next}.</source>
        <translation>此版本已打印或已有答卷：保存将生成第 {next} 版。</translation>
    </message>
    <message>
        <source>Saved as version {version}.</source>
        <translation>已保存为第 {version} 版。</translation>
    </message>
</context>
<context>
    <name>SurveysPage</name>
    <message>
        <source>Print forms…</source>
        <translation>打印问卷…</translation>
    </message>
    <message>
        <source>Enter returned forms</source>
        <translation>录入交回的问卷</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Templates</source>
        <translation>问卷模板</translation>
    </message>
    <message>
        <source>Survey</source>
        <translation>问卷</translation>
    </message>
</context>
<context>
    <name>ThisPcPage</name>
    <message>
        <source>These settings apply to this computer only; every counter keeps its own.</source>
        <translation>以下设置只对本机有效，每台收银机各自保存。</translation>
    </message>
    <message>
        <source>{width} mm</source>
        <translation>{width} 毫米</translation>
    </message>
    <message>
        <source>after {minutes} min</source>
        <translation>{minutes} 分钟后</translation>
    </message>
    <message>
        <source>Receipt printer paper width</source>
        <translation>小票打印机纸宽</translation>
    </message>
    <message>
        <source>Lock the counter when idle</source>
        <translation>无操作时锁定收银台</translation>
    </message>
    <message>
        <source>Slips are now laid out for {width} mm paper.</source>
        <translation>凭条现按 {width} 毫米纸宽排版。</translation>
    </message>
    <message>
        <source>The counter now asks for the PIN after {minutes} minutes without a key or a click.</source>
        <translation>现在收银台在 {minutes} 分钟无按键或点击后要求输入 PIN 码。</translation>
    </message>
</context>
<context>
    <name>Tiers</name>
    <message>
        <source>Upgrade: 12-month figure reached the threshold</source>
        <translation>升级：近 12 个月业绩达到门槛</translation>
    </message>
    <message>
        <source>Review: 12-month figure below the tier&apos;s threshold</source>
        <translation>复核：近 12 个月业绩低于该等级门槛</translation>
    </message>
</context>
<context>
    <name>TiersPage</name>
    <message>
        <source>A member reaches a tier by spending or earning this much within 12 months (the store&apos;s setting &quot;Tiers by&quot; says which counts). Members move up at their next purchase and down only at their review.</source>
        <translation>会员在 12 个月内消费或获得积分达到门槛即可升入该等级（按门店设置“等级依据”计算）。会员在下次消费时升级，仅在复核时降级。</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>English name</source>
        <translation>英文名称</translation>
    </message>
    <message>
        <source>12-month spend from (¥)</source>
        <translation>12 个月消费门槛（元）</translation>
    </message>
    <message>
        <source>12-month points from</source>
        <translation>12 个月积分门槛</translation>
    </message>
    <message>
        <source>Points earned (%)</source>
        <translation>积分倍率（%）</translation>
    </message>
    <message>
        <source>Save tiers</source>
        <translation>保存等级</translation>
    </message>
    <message>
        <source>Tiers saved.</source>
        <translation>会员等级已保存。</translation>
    </message>
</context>
<context>
    <name>TrustArea</name>
    <message>
        <source>Privacy</source>
        <translation>隐私</translation>
    </message>
    <message>
        <source>Backups</source>
        <translation>备份与恢复</translation>
    </message>
    <message>
        <source>Audit log</source>
        <translation>审计日志</translation>
    </message>
</context>
</TS>
