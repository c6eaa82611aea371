import type { NotificationMessages } from './notifications.zh-CN'

const notificationsEn: NotificationMessages = {
  bell: 'Notifications',
  title: 'Notifications',
  markAllRead: 'Mark all read',
  empty: 'No notifications',
  unread: 'Unread',
  loadFailed: 'Could not load notifications: {message}',
  kinds: {
    assignment: 'Assigned',
    card: 'Supervision',
    return: 'Returned',
    reply: 'Reply',
    warning: 'Warning',
    system: 'System',
  },
}

export default notificationsEn
