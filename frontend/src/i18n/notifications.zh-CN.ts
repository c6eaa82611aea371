// Notifications (站内消息) and the header bell — Simplified Chinese. notifications.en.ts has the same keys.
const notificationsZhCN = {
  bell: '消息通知',
  title: '消息',
  markAllRead: '全部标为已读',
  empty: '暂无消息',
  unread: '未读',
  loadFailed: '消息加载失败：{message}',
  kinds: {
    assignment: '指派',
    card: '督办',
    return: '退回',
    reply: '回复',
    warning: '预警',
    system: '系统',
  },
}

export type NotificationMessages = typeof notificationsZhCN
export default notificationsZhCN
